/** Runs git read-only in a project folder; undefined when git is missing, the folder is no checkout, or it fails. */
import { execFileSync } from 'node:child_process';

export function gitOutput(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}
