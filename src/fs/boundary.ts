/**
 * The project folder is the boundary: nothing outside it is read into a build context, and idekube writes, chmods
 * or deletes only below a folder it trusts, never through a symbolic link. Everything here uses lstat (a link is
 * reported, never followed), and files are opened with O_NOFOLLOW, so a link put in place after a check is refused
 * by the kernel rather than followed.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError, RunError } from '../config/errors.js';

/** Called with a path that must not be used as it is (a link, a special file, a file where a folder goes…). */
export type Refuse = (abs: string, st: Stats) => never;

// O_NOFOLLOW: a link as the last component fails (ELOOP). O_NONBLOCK: a FIFO fails (ENXIO) instead of hanging.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;
const READ = constants.O_RDONLY | NOFOLLOW | NONBLOCK;
const WRITE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW | NONBLOCK;

/** True when `p` is `dir` or below it. Both absolute; compared as written (see `realish` for links). */
export function isInside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/** How a path is named in messages: relative to the project when inside it, else absolute. */
export function shown(root: string, p: string): string {
  return isInside(root, p) ? relative(root, p).split(sep).join('/') || '.' : p;
}

/** `p` with links resolved as far as it exists; a tail that does not exist yet is kept as written. */
export function realish(p: string): string {
  const tail: string[] = [];
  for (let cur = resolve(p); ; cur = dirname(cur)) {
    try {
      return join(realpathSync(cur), ...tail.reverse());
    } catch {
      if (dirname(cur) === cur) return resolve(p);
      tail.push(basename(cur));
    }
  }
}

/** What a file-system entry is, in words (with a link's target, read but not followed). */
export function kindOf(abs: string, st: Stats): string {
  if (st.isSymbolicLink()) {
    let to = '?';
    try {
      to = readlinkSync(abs);
    } catch {
      /* gone meanwhile: the kind is still right */
    }
    return `a symbolic link (to ${to})`;
  }
  if (st.isDirectory()) return 'a folder';
  if (st.isFile()) return 'a file';
  if (st.isSocket()) return 'a socket';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device';
  return 'a special file';
}

/** Every regular file under `dir`, names sorted at each level; none when `dir` does not exist. */
export interface FileEntry {
  abs: string;
  /** Relative to `dir`, with `/`. */
  rel: string;
  size: number;
  mtimeMs: number;
  mode: number;
}

/** Walks `dir` without following anything: links, sockets, FIFOs and devices (and `dir` not being a folder) are refused. */
export function walkFiles(dir: string, refuse: Refuse): FileEntry[] {
  const top = lstatSync(dir, { throwIfNoEntry: false });
  if (!top) return [];
  if (!top.isDirectory()) refuse(dir, top);
  const out: FileEntry[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else if (st.isFile()) out.push({ abs: p, rel: r, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode });
      else refuse(p, st);
    }
  };
  walk(dir, '');
  return out;
}

/**
 * Refuses a link among the existing components of `p` below `base` (`base` itself is trusted), and a non-folder
 * before the last one. Stops at the first component that does not exist.
 */
export function checkComponents(base: string, p: string, refuse: Refuse): void {
  const parts = relative(base, p).split(sep).filter(Boolean);
  let cur = base;
  for (const [i, part] of parts.entries()) {
    cur = join(cur, part);
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isSymbolicLink() || (i < parts.length - 1 && !st.isDirectory())) refuse(cur, st);
  }
}

/** Opens a file for reading; a link or a special file there is refused, never followed. */
export function openRegular(abs: string, refuse: Refuse): number {
  let fd: number;
  try {
    fd = openSync(abs, READ);
  } catch (e) {
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st && !st.isFile()) refuse(abs, st);
    throw e;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    refuse(abs, st);
  }
  return fd;
}

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}

function copyFd(from: number, to: number): void {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let n; (n = readSync(from, buf, 0, buf.length, null)) > 0; ) writeAll(to, buf.subarray(0, n));
}

/** Content to write: text, or a file to copy (opened without following links; `refuse` names it if it is one). */
export type Content = string | Buffer | { source: string; refuse: Refuse };

/**
 * Writes and removes files below `root`, which the caller trusts. No component below it may be a link: each
 * folder is checked (or created, one level at a time: a recursive mkdir would follow a link) once per instance.
 */
export class SafeTree {
  private readonly folders = new Set<string>();

  constructor(
    readonly root: string,
    private readonly refuse: Refuse,
  ) {}

  abs(rel: string): string {
    return join(this.root, rel);
  }

  /** The folder holding `rel`, each component checked; undefined when one is missing and `create` is false. */
  private folderOf(rel: string, create: boolean): string | undefined {
    let cur = this.root;
    for (const part of rel.split('/').slice(0, -1)) {
      cur = join(cur, part);
      if (this.folders.has(cur)) continue;
      const st = lstatSync(cur, { throwIfNoEntry: false });
      if (!st) {
        if (!create) return undefined;
        mkdirSync(cur);
      } else if (!st.isDirectory()) this.refuse(cur, st);
      this.folders.add(cur);
    }
    return cur;
  }

  /** Makes the folder `rel` (and those above it, below the root). */
  mkdirs(rel: string): void {
    if (rel) this.folderOf(`${rel}/.`, true);
  }

  lstat(rel: string): Stats | undefined {
    return this.folderOf(rel, false) === undefined ? undefined : lstatSync(this.abs(rel), { throwIfNoEntry: false });
  }

  read(rel: string): Buffer | undefined {
    if (!this.lstat(rel)) return undefined;
    const fd = openRegular(this.abs(rel), this.refuse);
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.allocUnsafe(1 << 16);
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
      return Buffer.concat(chunks);
    } finally {
      closeSync(fd);
    }
  }

  /** Opens `rel` for writing (created or truncated) without following a link there. */
  private openWrite(rel: string, mode: number): number {
    this.folderOf(rel, true);
    const abs = this.abs(rel);
    try {
      return openSync(abs, WRITE, mode);
    } catch (e) {
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (st && !st.isFile()) this.refuse(abs, st);
      throw new RunError(`cannot write ${abs}: ${(e as Error).message}`);
    }
  }

  /** Writes `rel` with exactly `mode` and `mtimeMs`, all through one descriptor (no path is followed twice). */
  write(rel: string, content: Content, mode: number, mtimeMs?: number): void {
    // the source first: a refused source leaves the destination as it was
    const src = typeof content === 'string' || Buffer.isBuffer(content) ? undefined : openRegular(content.source, content.refuse);
    try {
      const fd = this.openWrite(rel, mode);
      try {
        if (src === undefined) writeAll(fd, Buffer.from(content as string | Buffer));
        else copyFd(src, fd);
        fchmodSync(fd, mode);
        if (mtimeMs !== undefined) futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
      } finally {
        closeSync(fd);
      }
    } finally {
      if (src !== undefined) closeSync(src);
    }
  }

  /** Sets the mode and mtime of an existing regular file (not through a link). */
  setMeta(rel: string, mode: number, mtimeMs: number): void {
    this.folderOf(rel, false);
    const fd = openRegular(this.abs(rel), this.refuse);
    try {
      fchmodSync(fd, mode);
      futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
    } finally {
      closeSync(fd);
    }
  }

  /** Replaces `rel` whole (a temporary file, then rename: a reader never sees half of it; rename replaces a link, never follows it). */
  replace(rel: string, content: string, mode = 0o644): void {
    this.write(`${rel}.tmp`, content, mode);
    renameSync(this.abs(`${rel}.tmp`), this.abs(rel));
  }

  /** Deletes the regular file `rel`, then the folders this left empty (up to the root, which stays). A folder there now is left alone. */
  remove(rel: string): boolean {
    const st = this.lstat(rel);
    if (!st || st.isDirectory()) return false;
    if (!st.isFile()) this.refuse(this.abs(rel), st);
    unlinkSync(this.abs(rel));
    const parts = rel.split('/').slice(0, -1);
    for (; parts.length; parts.pop()) {
      const dir = this.abs(parts.join('/'));
      try {
        rmdirSync(dir);
        this.folders.delete(dir);
      } catch {
        break; // not empty: it holds other files
      }
    }
    return true;
  }
}

/** Refusal for what is read from the project (manifests, layer files): exit 2 naming the path and the fix. */
export function sourceRefusal(root?: string): Refuse {
  return (abs, st) => {
    const kind = kindOf(abs, st);
    const where = { file: root === undefined ? abs : shown(root, abs) };
    if (st.isSymbolicLink()) {
      throw new InputError(
        `is ${kind}: idekube never follows links in what it reads into a catalog or a build context (the link could point outside the project)`,
        where,
        'replace the link by the file (or a copy of the folder) it points to, or remove it',
      );
    }
    if (st.isFile())
      throw new InputError(
        'is a file where a folder is expected',
        where,
        "make it a folder (artifacts/layers/<name> holds a layer's files), or move it away",
      );
    if (st.isDirectory()) throw new InputError('is a folder where a file is expected', where, 'replace it by the file, or move it away');
    throw new InputError(`is ${kind}: only regular files and folders go into a catalog or a build context`, where, 'remove it');
  };
}

/** Refusal for the output tree: exit 2 naming the path; idekube never writes, chmods or deletes through a link. */
export function outputRefusal(root: string): Refuse {
  return (abs, st) => {
    const kind = kindOf(abs, st);
    const where = { file: shown(root, abs) };
    if (st.isSymbolicLink()) {
      throw new InputError(
        `is ${kind} in the output folder: idekube never writes, chmods or deletes anything through a link`,
        where,
        'remove the link (rm only removes the link, not its target), or choose another output folder with -o',
      );
    }
    throw new InputError(`is ${kind} where idekube writes its output`, where, 'move it away, or choose another output folder with -o');
  };
}
