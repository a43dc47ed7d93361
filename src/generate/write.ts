/** Writes generated build contexts to disk: exact file set, fixed modes and mtimes, stale files removed. */
import { copyFileSync, chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContextFile, GeneratedFlavor } from './flavor.js';

/** A fixed mtime so that contexts are byte- and metadata-identical run to run (tar-based tools care). */
const EPOCH = new Date('2020-01-01T00:00:00Z');

export function writeContext(gen: GeneratedFlavor, dir: string): { written: number; unchanged: number; removed: number } {
  mkdirSync(dir, { recursive: true });
  const wanted = new Set(gen.files.map((f) => f.path));
  let written = 0;
  let unchanged = 0;
  for (const f of gen.files) {
    const dest = join(dir, f.path);
    const have = statSync(dest, { throwIfNoEntry: false });
    const same = have !== undefined && sameContent(f, dest, have);
    if (same) {
      unchanged++;
    } else {
      mkdirSync(dirname(dest), { recursive: true });
      if (f.text !== undefined) writeFileSync(dest, f.text);
      else copyFileSync(f.source!, dest);
      written++;
    }
    // A re-run over an unchanged context costs one stat and two reads per file: no metadata writes.
    if (!same || (have.mode & 0o7777) !== f.mode) chmodSync(dest, f.mode);
    if (!same || have.mtimeMs !== EPOCH.getTime()) utimesSync(dest, EPOCH, EPOCH);
  }
  const removed = prune(dir, dir, wanted);
  return { written, unchanged, removed };
}

function sameContent(f: ContextFile, dest: string, have: Stats): boolean {
  if (!have.isFile()) return false;
  const want = f.text !== undefined ? Buffer.from(f.text) : readFileSync(f.source!);
  return have.size === want.length && readFileSync(dest).equals(want);
}

function prune(root: string, dir: string, wanted: Set<string>): number {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed += prune(root, p, wanted);
      if (!readdirSync(p).length) rmSync(p, { recursive: true });
    } else if (!wanted.has(p.slice(root.length + 1))) {
      rmSync(p);
      removed++;
    }
  }
  return removed;
}

/** Context byte size (what a driver sends to the engine). */
export function contextSize(gen: GeneratedFlavor): number {
  return gen.files.reduce((n, f) => n + (f.text !== undefined ? Buffer.byteLength(f.text) : statSync(f.source!).size), 0);
}
