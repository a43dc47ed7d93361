/**
 * Cache keys: a SHA-256 over every input of a build, in a canonical form, so that "nothing changed" is a
 * cache hit and any change (a script byte, an arg, the manifest, the seed template, the base image, idekube's
 * own QEMU code) is a rebuild. No marker files, no timestamps.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isRecord } from '../config/guards.js';

/** Bump when the TypeScript side of the disk recipe changes in a way that changes disks. */
export const QEMU_CODE_VERSION = 1;

/** JSON with sorted keys, so that equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = v[k];
      if (x !== undefined) out[k] = sortDeep(x);
    }
    return out;
  }
  return v;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The 16-hex-digit key of a set of inputs (64 bits: plenty for one project's cache). */
export function keyOf(inputs: unknown): string {
  return sha256(canonicalJson(inputs)).slice(0, 16);
}

/**
 * Hash of a folder: every regular file's relative path, executable bit and contents, sorted by path.
 * A missing folder hashes as "absent" (so adding one changes the key).
 */
export function hashTree(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const h = createHash('sha256');
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        h.update(`${relative(dir, p)}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
        h.update(readFileSync(p));
        h.update('\0');
      }
    }
  };
  if (statSync(dir).isFile()) h.update(readFileSync(dir));
  else walk(dir);
  return h.digest('hex');
}

/** SHA-256 of a (possibly large) file, streamed. */
export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve());
  });
  return h.digest('hex');
}
