/**
 * QEMU on arm64 under TCG (cortex-a57), for real: the fixture flavor's arm64 base disk is built from Debian
 * packages (mmdebstrap under qemu-user emulation, the lean cloud-kernel recipe) and booted to SSH with
 * `idekube qemu run --check`, then powered off cleanly. The full arm64 provisioning run is in bench/qemu.ts.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { onPath } from '../../src/qemu/exec.js';
import { CLI, REPO_ROOT } from '../helpers/project.js';

const TOOLS = ['qemu-system-aarch64', 'qemu-img', 'mmdebstrap', 'mkfs.ext4', 'genisoimage', 'ssh'];
const missing = TOOLS.filter((t) => !onPath(t));
const binfmt = existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64') || process.arch === 'arm64';
const skip =
  process.getuid?.() !== 0
    ? 'needs root (mmdebstrap)'
    : missing.length
      ? `missing ${missing.join(', ')}`
      : !binfmt
        ? 'no qemu-aarch64 binfmt handler (test/env/setup.sh enables it)'
        : false;

describe("QEMU arm64: the fixture flavor's base disk boots to SSH under TCG", { skip, timeout: 30 * 60_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'idekube-qemu-it-arm64-'));
    const fixture = join(REPO_ROOT, 'test/fixtures/catalog');
    for (const n of ['.dockerargs', 'flavors', 'artifacts']) cpSync(join(fixture, n), join(dir, n), { recursive: true });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds the arm64 base disk and boots it to SSH (cortex-a57, direct kernel boot), then powers off', {
    timeout: 25 * 60_000,
  }, async () => {
    const t0 = Date.now();
    // the lean base (no extra packages baked in): what CI can afford under emulation
    const r = await execa(
      process.execPath,
      [CLI, '-C', dir, '--set', 'QEMU_DEBIAN_PACKAGES=', '--json', 'qemu', 'run', 'web/base', '--arch', 'arm64', '--base-only', '--check'],
      {
        reject: false,
        timeout: 25 * 60_000,
        env: { NO_COLOR: '1' },
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.exitCode, 0, String(r.stderr));
    const out = JSON.parse(String(r.stdout));
    assert.equal(out.arch, 'arm64');
    assert.equal(out.guest.machine, 'aarch64');
    if (process.arch !== 'arm64') {
      assert.equal(out.accel, 'tcg');
      assert.match(String(r.stderr), /accelerator: TCG: the guest is arm64 and the host is amd64/);
    }
    assert.ok(out.bootToSshS > 0 && typeof out.shutdownS === 'number');
    assert.match(String(r.stderr), /Debian bookworm arm64 rootfs built with mmdebstrap in ([0-9.]+) s/);
    assert.deepEqual(readdirSync(join(dir, '.idekube/qemu/tmp')), []);
    const rootfs = /rootfs built with mmdebstrap in ([0-9.]+) s/.exec(String(r.stderr))?.[1];
    process.stderr.write(
      `# qemu arm64 timings (s): ${JSON.stringify({ total: seconds, rootfs: Number(rootfs), bootToSsh: out.bootToSshS, shutdown: out.shutdownS })}\n`,
    );
  });
});
