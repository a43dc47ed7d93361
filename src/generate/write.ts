/** Writes generated build contexts to disk: exact file set, fixed modes and mtimes, stale files removed. */
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
    if (sameContent(f, dest)) {
      unchanged++;
    } else {
      mkdirSync(dirname(dest), { recursive: true });
      if (f.text !== undefined) writeFileSync(dest, f.text);
      else copyFileSync(f.source!, dest);
      written++;
    }
    chmodSync(dest, f.mode);
    utimesSync(dest, EPOCH, EPOCH);
  }
  const removed = prune(dir, dir, wanted);
  return { written, unchanged, removed };
}

function sameContent(f: ContextFile, dest: string): boolean {
  if (!existsSync(dest)) return false;
  const have = readFileSync(dest);
  const want = f.text !== undefined ? Buffer.from(f.text) : readFileSync(f.source!);
  return have.equals(want);
}

function prune(root: string, dir: string, wanted: Set<string>): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const rel = p.slice(root.length + 1);
    if (statSync(p).isDirectory()) {
      removed += prune(root, p, wanted);
      if (!readdirSync(p).length) rmSync(p, { recursive: true });
    } else if (!wanted.has(rel)) {
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
