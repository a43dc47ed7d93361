/**
 * The QEMU cache of a project, under .idekube/qemu/ (git-ignored with .idekube/):
 *
 *   base/      Debian rootfs tarballs, named by a hash of their inputs (+ .json with the tarball's sha256)
 *   downloads/ cloud images, named by their verified sha256
 *   disks/     finished root disks: <flavor>-<variant>-<arch>-<key>/ {disk.qcow2, vmlinuz, initrd.img, disk.json}
 *   tmp/       work folders of running builds; a finished build is renamed into disks/, a failed one removed
 *   logs/      one folder per build (serial console, QEMU, provisioning), kept after failures
 *   run/       `idekube qemu run` state (its SSH key, optional persistent overlays)
 *   image/     build contexts of VM-in-container images
 *
 * Nothing is ever written in place: files appear under their final name only when complete.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface CachePaths {
  root: string;
  base: string;
  downloads: string;
  disks: string;
  tmp: string;
  logs: string;
  run: string;
  image: string;
}

export function cachePaths(projectRoot: string): CachePaths {
  const root = join(projectRoot, '.idekube', 'qemu');
  return {
    root,
    base: join(root, 'base'),
    downloads: join(root, 'downloads'),
    disks: join(root, 'disks'),
    tmp: join(root, 'tmp'),
    logs: join(root, 'logs'),
    run: join(root, 'run'),
    image: join(root, 'image'),
  };
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A fresh work folder under tmp/ (removed by the caller on failure). */
export function workDir(paths: CachePaths, prefix: string): string {
  ensureDir(paths.tmp);
  return mkdtempSync(join(paths.tmp, `${prefix}-`));
}

/** A log folder for one build: logs/<name>-<UTC time>/ */
export function logDir(paths: CachePaths, name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  const dir = join(paths.logs, `${name}-${stamp}`);
  let d = dir;
  for (let i = 2; existsSync(d); i++) d = `${dir}-${i}`;
  return ensureDir(d);
}

/**
 * Move a finished work folder to its final name. If another build finished the same entry first, keep
 * theirs (same key, same inputs) and drop ours. Returns the final path.
 */
export function publishDir(work: string, final: string): string {
  try {
    renameSync(work, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(final)) {
      rmSync(work, { recursive: true, force: true });
      return final;
    }
    throw e;
  }
  return final;
}

/** A file-level rename into place (same file system). */
export function publishFile(tmp: string, final: string): void {
  renameSync(tmp, final);
}

/** Older cache entries named `<prefix>-<key>` (newest first by mtime), for pruning. */
export function entriesWithPrefix(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${prefix}-`) && /^[0-9a-f]{16}$/.test(n.slice(prefix.length + 1)))
    .map((n) => join(dir, n))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}
