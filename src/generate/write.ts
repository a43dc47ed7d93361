/**
 * Writes generated build contexts to disk: the exact file set, fixed modes, stale files removed. Copied files keep
 * their source's mtime, so an unchanged one is recognised by size and mtime alone (rsync's quick check) and a
 * re-run reads nothing; generated files get a fixed mtime and are compared by content. BuildKit keys its cache on
 * content and mode, never on mtimes.
 *
 * Host safety: the output folder holds one context per flavor (`<out>/<flavor>/<variant>/`) and a record of every
 * file idekube wrote there (`<out>/.idekube-generated.json`). Only recorded files are ever removed, so a user's
 * file is never deleted; a non-empty folder without a record is refused. Nothing is written, chmod-ed or deleted
 * through a symbolic link (see src/fs/boundary.ts): a link in the output tree is exit 2.
 */
import { lstatSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { InputError, messageOf } from '../config/errors.js';
import { prop } from '../config/guards.js';
import { SafeTree, checkComponents, isInside, outputRefusal, shown, sourceRefusal, walkFiles, type Refuse } from '../fs/boundary.js';
import type { ContextFile, GeneratedFlavor } from './flavor.js';

/** The mtime of generated files, so they are identical run to run. */
const EPOCH_MS = Date.parse('2020-01-01T00:00:00Z');

/** The record of what idekube wrote in an output folder (paths relative to it). Outside every context. */
export const RECORD = '.idekube-generated.json';

export interface WriteStats {
  written: number;
  unchanged: number;
  removed: number;
}

/**
 * Writes the contexts of `gens` under `out` (`<out>/<id>/`). `root` is the project: when `out` is inside it, no
 * component from the project down may be a link. `adopt`: a folder of idekube's own (under `.idekube/`) written
 * before records existed counts as idekube's; any other folder without a record must be empty.
 */
export function writeOutput(root: string, out: string, gens: GeneratedFlavor[], opts: { adopt?: boolean } = {}): Map<string, WriteStats> {
  const refuse = outputRefusal(root);
  const tree = openOutput(root, out, refuse);
  const before = previousRecord(tree, root, opts.adopt ?? isInside(join(root, '.idekube'), out));
  const ours = (rel: string) => gens.some((g) => rel.startsWith(`${g.id}/`));
  const wanted = gens.flatMap((g) => g.files.map((f) => `${g.id}/${f.path}`));
  // Recorded before anything is written: a run that stops half-way still knows what it may have left behind.
  saveRecord(tree, [...before, ...wanted]);
  const stats = new Map<string, WriteStats>();
  for (const g of gens) stats.set(g.id, writeContext(tree, g, before));
  saveRecord(tree, [...before.filter((r) => !ours(r)), ...wanted]);
  return stats;
}

/** Checks the output folder (and creates it); returns the tree to write in. */
function openOutput(root: string, out: string, refuse: Refuse): SafeTree {
  // Inside the project every component below it is checked; outside, the user named the folder: it and below.
  const inProject = isInside(root, out);
  const base = inProject ? root : out;
  checkComponents(base, out, refuse);
  try {
    const st = lstatSync(out, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) refuse(out, st);
    if (!st) {
      // one level at a time from what exists (a recursive mkdir follows links, and loops forever under /proc)
      const top = inProject ? root : existingAncestor(out);
      new SafeTree(top, refuse).mkdirs(relative(top, out).split(sep).join('/'));
    }
    const made = lstatSync(out);
    if (!made.isDirectory()) refuse(out, made);
  } catch (e) {
    if (e instanceof InputError) throw e;
    // a file among the folders above it (ENOTDIR), no permission (EACCES): the -o flag is wrong, not the run
    throw new InputError(
      `cannot create the output folder: ${messageOf(e)}`,
      { file: shown(root, out) },
      'choose a folder you can write, with -o',
    );
  }
  return new SafeTree(out, refuse);
}

function existingAncestor(p: string): string {
  while (dirname(p) !== p && !lstatSync(p, { throwIfNoEntry: false })) p = dirname(p);
  return p;
}

/** What idekube wrote in this folder before; the folder is walked whole, so a link anywhere in it is refused. */
function previousRecord(tree: SafeTree, root: string, adopt: boolean): string[] {
  const present = walkFiles(tree.root, outputRefusal(root)).map((e) => e.rel);
  const text = tree.read(RECORD);
  if (text !== undefined) return parseRecord(text.toString('utf8'), shown(root, tree.abs(RECORD)));
  if (!present.length || adopt) return present;
  throw new InputError(
    `the output folder is not empty and has no ${RECORD}: idekube did not write it, and it only ever deletes files it wrote itself`,
    { file: shown(root, tree.root) },
    'choose a new or empty folder with -o (or empty this one yourself)',
  );
}

/** A record lists relative, normalised paths; anything else was not written by idekube and is refused. */
function parseRecord(text: string, file: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const files = prop(data, 'files');
  const valid = (p: unknown): p is string =>
    typeof p === 'string' && p !== '' && !isAbsolute(p) && posix.normalize(p) === p && !p.split('/').includes('..') && p !== RECORD;
  if (!Array.isArray(files) || !files.every(valid)) {
    throw new InputError(
      'is not a record written by idekube (a JSON list of relative paths)',
      { file },
      'delete the output folder (or this file and what it lists) and generate again',
    );
  }
  return files;
}

function saveRecord(tree: SafeTree, files: string[]): void {
  const sorted = [...new Set(files)].sort();
  tree.replace(RECORD, `${JSON.stringify({ version: 1, files: sorted }, null, 1)}\n`);
}

/** One flavor's context: stale recorded files of this flavor removed first (a stale file may sit where a folder goes now), then each file written or kept. */
function writeContext(tree: SafeTree, gen: GeneratedFlavor, recorded: string[]): WriteStats {
  const prefix = `${gen.id}/`;
  const wanted = new Set(gen.files.map((f) => prefix + f.path));
  let removed = 0;
  for (const rel of recorded) if (rel.startsWith(prefix) && !wanted.has(rel) && tree.remove(rel)) removed++;
  let written = 0;
  let unchanged = 0;
  for (const f of gen.files) {
    if (writeFile(tree, prefix + f.path, f)) written++;
    else unchanged++;
  }
  return { written, unchanged, removed };
}

/** Writes one file unless it is already there with the same content; fixes mode and mtime. True when written. */
function writeFile(tree: SafeTree, rel: string, f: ContextFile): boolean {
  const have = tree.lstat(rel);
  const mtimeMs = f.text !== undefined ? EPOCH_MS : sourceStat(f).mtimeMs;
  if (have?.isFile() && sameContent(tree, rel, f, have.size, have.mtimeMs)) {
    if ((have.mode & 0o7777) !== f.mode || !sameTime(have.mtimeMs, mtimeMs)) tree.setMeta(rel, f.mode, mtimeMs);
    return false;
  }
  tree.write(rel, f.text ?? { source: f.source!, refuse: sourceRefusal() }, f.mode, mtimeMs);
  return true;
}

/** Within a millisecond: utimes takes seconds as a double, which cannot carry every nanosecond back exactly. */
function sameTime(a: number, b: number): boolean {
  return Math.abs(a - b) < 1;
}

function sourceStat(f: ContextFile): { size: number; mtimeMs: number } {
  // lstat: a source that became a link since it was listed is refused when it is opened, never followed
  return (f.stat ??= lstatSync(f.source!));
}

function sameContent(tree: SafeTree, rel: string, f: ContextFile, size: number, mtimeMs: number): boolean {
  if (f.text === undefined) {
    const src = sourceStat(f);
    return size === src.size && sameTime(mtimeMs, src.mtimeMs);
  }
  const want = Buffer.from(f.text);
  return size === want.length && tree.read(rel)!.equals(want);
}

/** Context byte size (what a driver sends to the engine). */
export function contextSize(gen: GeneratedFlavor): number {
  return gen.files.reduce((n, f) => n + (f.text !== undefined ? Buffer.byteLength(f.text) : sourceStat(f).size), 0);
}
