/**
 * Bad input and bad guests end with a clear error within their bound, the VM process gone and nothing
 * half-written in the cache. Real QEMU under TCG with `--base cloud` and file:// "cloud images":
 *   - a missing checksum (exit 2, before any download) and a wrong one (exit 1, the download deleted);
 *   - an unbootable disk (all zeros: the firmware finds nothing to boot, -no-reboot ends QEMU);
 *   - a guest that never opens SSH (a boot sector that spins forever): the --ssh-timeout bound, then the VM
 *     is stopped by its PID.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { onPath } from '../../src/qemu/exec.js';
import { CLI, REPO_ROOT } from '../helpers/project.js';

const TOOLS = ['qemu-system-x86_64', 'qemu-img', 'genisoimage', 'ssh', 'ssh-keygen'];
const missing = TOOLS.filter((t) => !onPath(t));
const skip = missing.length ? `missing ${missing.join(', ')}` : false;

function image(dir: string, name: string, firstSector?: Buffer): { url: string; sha256: string } {
  const buf = Buffer.alloc(4 * 1024 * 1024);
  if (firstSector) firstSector.copy(buf, 0);
  const file = join(dir, name);
  writeFileSync(file, buf);
  return { url: pathToFileURL(file).href, sha256: createHash('sha256').update(buf).digest('hex') };
}

/** An MBR boot sector whose code is `jmp $`: it boots and spins, and never opens anything. */
function spinningBootSector(): Buffer {
  const s = Buffer.alloc(512);
  s[0] = 0xeb;
  s[1] = 0xfe;
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('QEMU failures: checksums, an unbootable disk, a guest without SSH', { skip, timeout: 10 * 60_000 }, () => {
  let dir: string;
  let images: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'idekube-qemu-it-fail-'));
    images = mkdtempSync(join(tmpdir(), 'idekube-qemu-it-img-'));
    const fixture = join(REPO_ROOT, 'test/fixtures/catalog');
    for (const n of ['.dockerargs', 'flavors', 'artifacts']) cpSync(join(fixture, n), join(dir, n), { recursive: true });
  });
  after(() => {
    for (const d of [dir, images]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const cli = async (sets: string[], extra: string[], timeoutMs: number) => {
    const t0 = Date.now();
    const r = await execa(
      process.execPath,
      [
        CLI,
        '-C',
        dir,
        ...sets.flatMap((s) => ['--set', s]),
        'qemu',
        'rootdisk',
        'web/base',
        '--arch',
        'amd64',
        '--base',
        'cloud',
        '--accel',
        'tcg',
        ...extra,
      ],
      { reject: false, timeout: timeoutMs, env: { NO_COLOR: '1' } },
    );
    return { code: r.exitCode, stderr: String(r.stderr), seconds: (Date.now() - t0) / 1000 };
  };
  const cacheIsClean = () => {
    const q = join(dir, '.idekube/qemu');
    for (const sub of ['disks', 'tmp']) {
      const p = join(q, sub);
      if (existsSync(p)) assert.deepEqual(readdirSync(p), [], `${sub}/ is empty`);
    }
  };
  const qemuPid = (stderr: string) => Number(/QEMU started \(pid (\d+)\)/.exec(stderr)?.[1]);

  it('a missing checksum: exit 2 before anything is downloaded', async () => {
    const img = image(images, 'zero.img');
    const r = await cli([`QEMU_CLOUD_IMAGE_URL_AMD64=${img.url}`], [], 60_000);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /QEMU_CLOUD_IMAGE_SHA256_AMD64 is not set: idekube verifies every cloud image/);
    assert.ok(!existsSync(join(dir, '.idekube/qemu/downloads')) || readdirSync(join(dir, '.idekube/qemu/downloads')).length === 0);
    cacheIsClean();
  });

  it('a wrong checksum: exit 1, and the download is deleted', async () => {
    const img = image(images, 'zero.img');
    const wrong = img.sha256.replace(/^./, (c) => (c === 'f' ? '0' : 'f'));
    const r = await cli([`QEMU_CLOUD_IMAGE_URL_AMD64=${img.url}`, `QEMU_CLOUD_IMAGE_SHA256_AMD64=${wrong}`], [], 60_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `checksum mismatch for file://.*zero\\.img: expected ${wrong} \\(QEMU_CLOUD_IMAGE_SHA256_AMD64 from flag --set QEMU_CLOUD_IMAGE_SHA256_AMD64\\), got ${img.sha256}; the download was deleted`,
      ),
    );
    assert.deepEqual(readdirSync(join(dir, '.idekube/qemu/downloads')), []);
    cacheIsClean();
  });

  it('an unbootable disk: QEMU ends by itself, a clear error, no disk in the cache', async () => {
    const img = image(images, 'zero.img');
    const r = await cli(
      [`QEMU_CLOUD_IMAGE_URL_AMD64=${img.url}`, `QEMU_CLOUD_IMAGE_SHA256_AMD64=${img.sha256}`],
      ['--ssh-timeout', '120'],
      180_000,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the VM stopped before SSH answered \(after \d+ s\): the disk did not boot/);
    assert.match(r.stderr, /No bootable device/, 'the serial console tail is in the error');
    assert.ok(r.seconds < 120, `took ${r.seconds} s: it must not wait for the SSH bound`);
    const pid = qemuPid(r.stderr);
    assert.ok(pid > 0 && !alive(pid), `QEMU (pid ${pid}) is gone`);
    cacheIsClean();
    // the verified image stays cached (it is good input; only the disk failed)
    assert.deepEqual(readdirSync(join(dir, '.idekube/qemu/downloads')), [`${img.sha256}.img`]);
  });

  it('a guest that never opens SSH: stopped when the bound passes, a clear error, no disk in the cache', async () => {
    const img = image(images, 'spin.img', spinningBootSector());
    const r = await cli(
      [`QEMU_CLOUD_IMAGE_URL_AMD64=${img.url}`, `QEMU_CLOUD_IMAGE_SHA256_AMD64=${img.sha256}`],
      ['--ssh-timeout', '20'],
      180_000,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the guest did not open SSH within 20 s/);
    assert.match(r.stderr, /QEMU was still running \(idekube stops it\)/, 'it was running when the bound passed');
    assert.ok(r.seconds < 90, `took ${r.seconds} s`);
    const pid = qemuPid(r.stderr);
    assert.ok(pid > 0 && !alive(pid), `QEMU (pid ${pid}) was stopped`);
    cacheIsClean();
  });
});
