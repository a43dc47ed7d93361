/**
 * `--base cloud`: a cloud image (upstream: Ubuntu noble) whose URL and SHA-256 are pinned in .dockerargs
 * (QEMU_CLOUD_IMAGE_URL_<ARCH>, QEMU_CLOUD_IMAGE_SHA256_<ARCH>). Downloaded once, verified, and cached under
 * its checksum; a download that does not match is deleted, so the cache only ever holds verified images.
 * https:// and file:// (a local mirror, air-gapped sites) are accepted; plain http:// is refused.
 */
import { createWriteStream, existsSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { InputError, messageOf, RunError } from '../config/errors.js';
import type { Arch } from '../config/platform.js';
import { hashFile } from './cache-key.js';
import { runTool } from './exec.js';
import { ensureDir, publishFile, type CachePaths } from './paths.js';
import { describeOrigin } from '../config/layered.js';
import { describe, locationOf, type QemuSettings } from './settings.js';

export interface CloudImage {
  file: string;
  sha256: string;
  url: string;
  cached: boolean;
}

/** The pinned URL and checksum of `arch`, checked (InputError naming the .dockerargs line when wrong). */
export function cloudPin(s: QemuSettings, arch: Arch): { url: string; sha256: string } {
  const A = arch.toUpperCase();
  const pin = s.cloud[arch] ?? {};
  if (!pin.url?.value) {
    throw new InputError(
      `QEMU_CLOUD_IMAGE_URL_${A} is not set: --base cloud needs the image's URL`,
      locationOf(pin.url),
      `add QEMU_CLOUD_IMAGE_URL_${A}=https://… and QEMU_CLOUD_IMAGE_SHA256_${A}=<sha256> to .dockerargs, or use --base debian`,
    );
  }
  const url = pin.url.value;
  if (!/^(https|file):\/\/\S+$/.test(url)) {
    throw new InputError(
      `${describe(pin.url)}: only https:// and file:// URLs are accepted`,
      locationOf(pin.url),
      'use the https:// URL of the image (or a file:// path to a local copy)',
    );
  }
  if (!pin.sha256?.value) {
    throw new InputError(
      `QEMU_CLOUD_IMAGE_SHA256_${A} is not set: idekube verifies every cloud image it downloads`,
      locationOf(pin.sha256) ?? locationOf(pin.url),
      `add QEMU_CLOUD_IMAGE_SHA256_${A}=<64 hex digits> from the SHA256SUMS file published next to ${url}`,
    );
  }
  const sha = pin.sha256.value.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) {
    throw new InputError(
      `${describe(pin.sha256)} is not a SHA-256 (64 hex digits)`,
      locationOf(pin.sha256),
      'copy the checksum from the SHA256SUMS file published next to the image',
    );
  }
  return { url, sha256: sha };
}

async function download(url: string, to: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    if (!existsSync(path)) throw new RunError(`${url}: no such file`);
    await copyFile(path, to);
    return;
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const onAbort = () => ctl.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await fetch(url, { signal: ctl.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new RunError(`download of ${url} failed: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body), createWriteStream(to));
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(
      `download of ${url} failed: ${ctl.signal.aborted ? (signal?.aborted ? 'cancelled' : `no end within ${timeoutMs / 60_000} min`) : messageOf(e)}`,
      { cause: e },
    );
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The verified image for `arch`, from the cache or downloaded now. */
export async function ensureCloudImage(
  paths: CachePaths,
  s: QemuSettings,
  arch: Arch,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<CloudImage> {
  const { url, sha256 } = cloudPin(s, arch);
  ensureDir(paths.downloads);
  const file = join(paths.downloads, `${sha256}.img`);
  if (existsSync(file)) return { file, sha256, url, cached: true };
  const tmp = `${file}.part-${process.pid}`;
  try {
    await download(url, tmp, opts.timeoutMs ?? 60 * 60_000, opts.signal);
    const got = await hashFile(tmp);
    if (got !== sha256) {
      const pin = s.cloud[arch]!.sha256!;
      throw new RunError(
        `checksum mismatch for ${url}: expected ${sha256} (${pin.key} from ${describeOrigin(pin.origin)}), got ${got}; the download was deleted`,
        {
          fix: `check QEMU_CLOUD_IMAGE_SHA256_${arch.toUpperCase()} against the SHA256SUMS published next to the image (a new image serial has a new checksum)`,
        },
      );
    }
    publishFile(tmp, file);
    return { file, sha256, url, cached: false };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Format and virtual size of a disk image (qemu-img info). */
export async function imageInfo(file: string): Promise<{ format: string; virtualSize: number }> {
  const r = await runTool('qemu-img', ['info', '--output=json', file], { what: `qemu-img info ${file}`, timeoutMs: 60_000 });
  const j = JSON.parse(r.stdout) as { format: string; 'virtual-size': number };
  return { format: j.format, virtualSize: j['virtual-size'] };
}

/** cloud image → work/disk.qcow2, grown to `sizeBytes` (the guest's cloud-init grows its partition). */
export async function diskFromCloudImage(
  image: string,
  work: string,
  sizeBytes: number,
  opts: { logFile: string; signal?: AbortSignal },
): Promise<string> {
  const info = await imageInfo(image);
  if (info.format !== 'qcow2' && info.format !== 'raw') throw new RunError(`${image} is a ${info.format} image; expected qcow2 or raw`);
  const disk = join(work, 'disk.qcow2');
  const common = { logFile: opts.logFile, ...(opts.signal ? { signal: opts.signal } : {}) };
  await runTool('qemu-img', ['convert', '-f', info.format, '-O', 'qcow2', image, disk], {
    what: 'qemu-img convert (cloud image)',
    timeoutMs: 10 * 60_000,
    ...common,
  });
  if (sizeBytes > info.virtualSize)
    await runTool('qemu-img', ['resize', '-f', 'qcow2', disk, String(sizeBytes)], {
      what: 'qemu-img resize',
      timeoutMs: 60_000,
      ...common,
    });
  return disk;
}
