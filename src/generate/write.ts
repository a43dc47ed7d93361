/**
 * Writes generated build contexts to disk: the exact file set, fixed modes, stale files removed. Copied files keep
 * their source's mtime, so an unchanged one is recognised by size and mtime alone (rsync's quick check) and a
 * re-run reads nothing; generated files get a fixed mtime and are compared by content. BuildKit keys its cache on
 * content and mode, never on mtimes.
 */
import { copyFileSync, chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContextFile, GeneratedFlavor } from './flavor.js';

/** The mtime of generated files, so they are identical run to run. */
const EPOCH_MS = Date.parse('2020-01-01T00:00:00Z');

export function writeContext(gen: GeneratedFlavor, dir: string): { written: number; unchanged: number; removed: number } {
  mkdirSync(dir, { recursive: true });
  const wanted = new Set(gen.files.map((f) => f.path));
  let written = 0;
  let unchanged = 0;
  for (const f of gen.files) {
    const dest = join(dir, f.path);
    const have = statSync(dest, { throwIfNoEntry: false });
    const mtimeMs = f.text !== undefined ? EPOCH_MS : sourceStat(f).mtimeMs;
    const same = have !== undefined && have.isFile() && sameContent(f, dest, have);
    if (same) {
      unchanged++;
    } else {
      mkdirSync(dirname(dest), { recursive: true });
      if (f.text !== undefined) writeFileSync(dest, f.text);
      else copyFileSync(f.source!, dest);
      written++;
    }
    if (!same || (have.mode & 0o7777) !== f.mode) chmodSync(dest, f.mode);
    if (!same || !sameTime(have.mtimeMs, mtimeMs)) utimesSync(dest, mtimeMs / 1000, mtimeMs / 1000);
  }
  const removed = prune(dir, dir, wanted);
  return { written, unchanged, removed };
}

/** Within a millisecond: utimes takes seconds as a double, which cannot carry every nanosecond back exactly. */
function sameTime(a: number, b: number): boolean {
  return Math.abs(a - b) < 1;
}

function sourceStat(f: ContextFile): { size: number; mtimeMs: number } {
  return (f.stat ??= statSync(f.source!));
}

function sameContent(f: ContextFile, dest: string, have: Stats): boolean {
  if (f.text === undefined) {
    const src = sourceStat(f);
    return have.size === src.size && sameTime(have.mtimeMs, src.mtimeMs);
  }
  const want = Buffer.from(f.text);
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
  return gen.files.reduce((n, f) => n + (f.text !== undefined ? Buffer.byteLength(f.text) : sourceStat(f).size), 0);
}
