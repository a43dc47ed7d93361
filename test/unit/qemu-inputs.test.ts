/**
 * Bad input for the QEMU commands ends before anything boots, with file:line where it comes from a file:
 * settings, cloud-image pins, checksums (a wrong one leaves nothing in the cache), seeds, flags.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { InputError, RunError } from '../../src/config/errors.js';
import { loadProject } from '../../src/config/project.js';
import { parseArch } from '../../src/config/platform.js';
import { sha256 } from '../../src/qemu/cache-key.js';
import { cloudPin, ensureCloudImage } from '../../src/qemu/cloud-base.js';
import { isPublicKeyLine } from '../../src/qemu/keys.js';
import { parseAccel } from '../../src/qemu/kvm.js';
import { cachePaths } from '../../src/qemu/paths.js';
import { parsePort } from '../../src/qemu/ports.js';
import { renderMetaData, renderUserData } from '../../src/qemu/seed.js';
import { parseSize, qemuSettings } from '../../src/qemu/settings.js';
import { cleanup, makeProject, runCli, type Files } from '../helpers/project.js';
import { readFileSync } from 'node:fs';
import { qemuArtifacts } from '../../src/qemu/artifacts.js';
import { REPO_ROOT } from '../helpers/project.js';

const FILES: Files = {
  '.dockerargs': 'BASE_IMAGE=debian:bookworm\n',
  'flavors/layers/base.yaml': 'run: install.sh\n',
  'artifacts/layers/base/install.sh': '#!/usr/bin/env bash\n',
  'flavors/web/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [base]\n',
  'flavors/web/amd/flavor.yaml': 'from:\n  parent: web/base\nplatforms: [linux/amd64]\nlayers: []\n',
};
const dirs: string[] = [];
after(() => dirs.forEach(cleanup));
const project = (dockerargs: string, extra: Files = {}, sets: string[] = []) => {
  const dir = makeProject(FILES, { '.dockerargs': `BASE_IMAGE=debian:bookworm\n${dockerargs}`, ...extra });
  dirs.push(dir);
  return loadProject({ dir, sets, flags: {}, env: {} });
};

function throwsAt(fn: () => unknown, re: RegExp, file?: string, line?: number): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${(e as Error).message}`);
    assert.match(e.message, re);
    if (file) assert.equal(e.location.file, file);
    if (line) assert.equal(e.location.line, line);
    assert.equal(e.exitCode, 2);
    return;
  }
  assert.fail('no error');
}

describe('QEMU settings', () => {
  it('defaults: Debian bookworm, 8G', () => {
    const s = qemuSettings(project(''), 'web/base');
    assert.equal(s.base, 'debian');
    assert.equal(s.debianSuite, 'bookworm');
    assert.equal(s.diskSizeBytes, 8 * 2 ** 30);
  });
  it('layered like build args: a flavor .dockerargs beats the project, --set beats both', () => {
    const p = project('QEMU_DISK_SIZE=10G\n', { 'flavors/web/base/.dockerargs': 'QEMU_DISK_SIZE=12G\n' }, [
      'QEMU_DEBIAN_PACKAGES=nginx-light,websockify',
    ]);
    const s = qemuSettings(p, 'web/base');
    assert.equal(s.diskSize, '12G');
    assert.deepEqual(s.debianPackages, ['nginx-light', 'websockify']);
  });
  it('a bad QEMU_DISK_SIZE names .dockerargs:line', () =>
    throwsAt(() => qemuSettings(project('X=1\nQEMU_DISK_SIZE=lots\n'), 'web/base'), /QEMU_DISK_SIZE="lots"/, '.dockerargs', 3));
  it('a bad QEMU_BASE names .dockerargs:line', () =>
    throwsAt(() => qemuSettings(project('QEMU_BASE=ubuntu\n'), 'web/base'), /expected debian or cloud/, '.dockerargs', 2));
  it('--base beats QEMU_BASE and is checked', () => {
    assert.equal(qemuSettings(project('QEMU_BASE=cloud\n'), 'web/base', 'debian').base, 'debian');
    throwsAt(() => qemuSettings(project(''), 'web/base', 'fedora'), /--base "fedora"/);
  });
  it('a bad package name in QEMU_DEBIAN_PACKAGES', () =>
    throwsAt(() => qemuSettings(project('QEMU_DEBIAN_PACKAGES=nginx;rm\n'), 'web/base'), /not a Debian package name/, '.dockerargs', 2));
  it('sizes', () => {
    assert.equal(parseSize('8G'), 8 * 2 ** 30);
    assert.equal(parseSize('512M'), 512 * 2 ** 20);
    assert.equal(parseSize('8 G'), undefined);
    assert.equal(parseSize('0G'), undefined);
  });
});

describe('cloud image pins', () => {
  const good = 'a'.repeat(64);
  it('a missing URL', () =>
    throwsAt(() => cloudPin(qemuSettings(project(''), 'web/base'), 'amd64'), /QEMU_CLOUD_IMAGE_URL_AMD64 is not set/));
  it('a missing checksum names the URL line', () =>
    throwsAt(
      () => cloudPin(qemuSettings(project('QEMU_CLOUD_IMAGE_URL_AMD64=https://example.invalid/a.img\n'), 'web/base'), 'amd64'),
      /QEMU_CLOUD_IMAGE_SHA256_AMD64 is not set/,
      '.dockerargs',
      2,
    ));
  it('an empty checksum names its own line', () =>
    throwsAt(
      () =>
        cloudPin(
          qemuSettings(project(`QEMU_CLOUD_IMAGE_URL_ARM64=https://example.invalid/a.img\nQEMU_CLOUD_IMAGE_SHA256_ARM64=\n`), 'web/base'),
          'arm64',
        ),
      /SHA256_ARM64 is not set/,
      '.dockerargs',
      3,
    ));
  it('a malformed checksum', () =>
    throwsAt(
      () =>
        cloudPin(
          qemuSettings(
            project(`QEMU_CLOUD_IMAGE_URL_AMD64=https://example.invalid/a.img\nQEMU_CLOUD_IMAGE_SHA256_AMD64=abc\n`),
            'web/base',
          ),
          'amd64',
        ),
      /not a SHA-256/,
      '.dockerargs',
      3,
    ));
  it('plain http is refused', () =>
    throwsAt(
      () =>
        cloudPin(
          qemuSettings(
            project(`QEMU_CLOUD_IMAGE_URL_AMD64=http://example.invalid/a.img\nQEMU_CLOUD_IMAGE_SHA256_AMD64=${good}\n`),
            'web/base',
          ),
          'amd64',
        ),
      /only https:\/\/ and file:\/\//,
      '.dockerargs',
      2,
    ));
});

describe('cloud image download and verification (file:// URL, no network)', () => {
  const p0 = project('');
  const img = join(p0.root, 'cloud.img');
  writeFileSync(img, Buffer.alloc(1024 * 1024, 7));
  const right = sha256(readFileSync(img));
  const wrong = right.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const pinned = (sha: string) => project(`QEMU_CLOUD_IMAGE_URL_AMD64=${pathToFileURL(img).href}\nQEMU_CLOUD_IMAGE_SHA256_AMD64=${sha}\n`);
  it('a wrong checksum is a clear error and leaves nothing in the cache', async () => {
    const p = pinned(wrong);
    await assert.rejects(ensureCloudImage(cachePaths(p.root), qemuSettings(p, 'web/base'), 'amd64'), (e: unknown) => {
      assert.ok(e instanceof RunError);
      assert.match(
        e.message,
        new RegExp(
          `checksum mismatch for file://.*expected ${wrong} \\(QEMU_CLOUD_IMAGE_SHA256_AMD64 from \\.dockerargs:3\\), got ${right}`,
        ),
      );
      return true;
    });
    assert.deepEqual(readdirSync(cachePaths(p.root).downloads), []);
  });
  it('the right checksum: cached under it, and found again', async () => {
    const p = pinned(right.toUpperCase());
    const a = await ensureCloudImage(cachePaths(p.root), qemuSettings(p, 'web/base'), 'amd64');
    assert.equal(a.cached, false);
    assert.equal(a.file, join(cachePaths(p.root).downloads, `${right}.img`));
    const b = await ensureCloudImage(cachePaths(p.root), qemuSettings(p, 'web/base'), 'amd64');
    assert.equal(b.cached, true);
    assert.deepEqual(readdirSync(cachePaths(p.root).downloads), [`${right}.img`]);
  });
  it('a missing file', async () => {
    const p = project(`QEMU_CLOUD_IMAGE_URL_AMD64=file:///nonexistent/x.img\nQEMU_CLOUD_IMAGE_SHA256_AMD64=${right}\n`);
    await assert.rejects(ensureCloudImage(cachePaths(p.root), qemuSettings(p, 'web/base'), 'amd64'), /no such file/);
    assert.ok(!existsSync(join(cachePaths(p.root).downloads, `${right}.img`)));
  });
});

describe('seed', () => {
  const art = qemuArtifacts(REPO_ROOT);
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3q0Ugg1Xg2b5c2c0W9n1u1k8v0m5d1a6e7y8s9t0u idekube-build-x';
  it('user-data: the provisioning account is a system account with the build key and no password', () => {
    const ud = renderUserData(readFileSync(art.userData, 'utf8'), { instanceId: 'i-1', hostname: 'vm', provisionKey: key });
    assert.match(ud, /^#cloud-config/);
    assert.match(ud, /name: idekube-provision\n(.*\n)*\s+system: true/);
    assert.ok(ud.includes(`"${key}"`));
    assert.match(ud, /lock_passwd: true/);
    assert.match(ud, /ssh_pwauth: false/);
    assert.ok(!/uid: 1000|plain_text_passwd|chpasswd/.test(ud));
  });
  it('meta-data has an instance-id', () => {
    assert.equal(
      renderMetaData(readFileSync(art.metaData, 'utf8'), { instanceId: 'idekube-abc', hostname: 'idekube-vm', provisionKey: key }),
      'instance-id: idekube-abc\nlocal-hostname: idekube-vm\n',
    );
  });
  it('refuses anything that is not one public key line', () => {
    for (const bad of ['', 'ssh-ed25519', 'ssh-ed25519 AAAA"\n- evil', 'ssh-ed25519 AAAA\nx: y']) {
      assert.ok(!isPublicKeyLine(bad), bad);
      assert.throws(() => renderUserData('@@PROVISION_KEY@@', { instanceId: 'i', hostname: 'h', provisionKey: bad }), RunError);
    }
  });
});

describe('flags', () => {
  it('--arch', () => {
    assert.equal(parseArch('arm64'), 'arm64');
    assert.equal(parseArch('x86_64'), 'amd64');
    assert.throws(() => parseArch('riscv64'), /expected amd64 or arm64/);
  });
  it('--accel', () => {
    assert.equal(parseAccel(undefined), 'auto');
    assert.throws(() => parseAccel('hvf'), /expected auto, kvm or tcg/);
  });
  it('ports', () => {
    assert.equal(parsePort('2222', '--ssh-port'), 2222);
    assert.throws(() => parsePort('70000', '--ssh-port'), /1-65535/);
  });
  it('the CLI exits 2 on bad input before anything runs', () => {
    const p = project('QEMU_DISK_SIZE=huge\n');
    const r = runCli(['-C', p.root, 'qemu', 'rootdisk', 'web/base']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /\.dockerargs:2: QEMU_DISK_SIZE="huge"/);
    const r2 = runCli(['-C', p.root, 'qemu', 'rootdisk', 'web/amd', '--arch', 'arm64']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /not built for linux\/arm64/);
    const r3 = runCli(['-C', p.root, 'qemu', 'run', 'web/base', '--accel', 'fast']);
    assert.equal(r3.code, 2);
    const r4 = runCli(['-C', p.root, 'qemu', 'image', 'web/base', '--arch', 'amd64']);
    assert.equal(r4.code, 2);
    assert.match(r4.stderr, /QEMU_BASE_IMAGE is not set/);
    assert.ok(!existsSync(join(p.root, '.idekube/qemu/disks')) || readdirSync(join(p.root, '.idekube/qemu/disks')).length === 0);
  });
});
