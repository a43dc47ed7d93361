/** Read-only git queries of a project folder. Each costs a process start (≈ 4 ms): ask for several facts at once. */
import { execFileSync } from 'node:child_process';

/** Output of `git args` (trimmed); undefined when git is missing, the folder is no checkout, or it fails. */
export function gitOutput(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** Source facts for OCI labels; `created` is the commit time so a plan stays reproducible. */
export interface SourceFacts {
  revision?: string;
  created?: string;
  source?: string;
}

export function sourceFacts(root: string): SourceFacts {
  const remote = gitOutput(root, ['config', '--get', 'remote.origin.url']);
  const [revision, created] = (gitOutput(root, ['log', '-1', '--format=%H%n%cI']) ?? '').split('\n');
  return {
    ...(revision ? { revision } : {}),
    ...(created ? { created } : {}),
    ...(remote ? { source: remote.replace(/^git@([^:]+):/, 'https://$1/').replace(/\.git$/, '') } : {}),
  };
}
