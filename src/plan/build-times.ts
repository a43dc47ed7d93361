/**
 * Wall time of each target's last full build (every step run), kept in .idekube/cache/build-times.json so that the
 * next build can start the longest chains first. Partial and cached builds say nothing about a full build's cost
 * and leave the record alone. Best effort: an unreadable or unwritable file only means guessing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outputRefusal, SafeTree } from '../fs/boundary.js';

const FILE = '.idekube/cache/build-times.json';

export function readBuildTimes(root: string): Record<string, number> {
  try {
    const data = JSON.parse(readFileSync(join(root, FILE), 'utf8')) as unknown;
    if (!data || typeof data !== 'object') return {};
    return Object.fromEntries(Object.entries(data).filter((e): e is [string, number] => typeof e[1] === 'number' && e[1] >= 0));
  } catch {
    return {};
  }
}

export function recordBuildTimes(
  root: string,
  results: Array<{ id: string; status: string; durationMs: number; executed?: number; cachedSteps?: number }>,
): void {
  const full = results.filter((r) => r.status === 'built' && (r.executed ?? 0) > 0 && r.cachedSteps === 0);
  if (!full.length) return;
  const times = { ...readBuildTimes(root), ...Object.fromEntries(full.map((r) => [r.id, r.durationMs])) };
  try {
    // never through a link (src/fs/boundary.ts): a refused path only means guessing next time
    new SafeTree(root, outputRefusal(root)).replace(FILE, `${JSON.stringify(times, null, 2)}\n`);
  } catch {
    /* read-only checkout, or a link in the way */
  }
}
