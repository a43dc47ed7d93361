/**
 * QEMU on amd64 under TCG, for real (no mocks; only 127.0.0.1; every wait bounded):
 *   1. `idekube qemu rootdisk web/base`: a Debian base disk from packages, booted, reached over SSH,
 *      provisioned from the fixture flavor's manifest (nginx + SSH over WebSocket), nginx's landing page checked at
 *      http://127.0.0.1:PORT/ through the forward, shut down cleanly; KVM auto-probed (TCG here).
 *   2. the same command again: a cache hit.
 *   3. `idekube qemu image web/base --arch amd64 --push`: the VM-in-container image, pushed to the local
 *      registry (the manifest list waits for arm64).
 *   4. the image runs with -p 127.0.0.1:PORT:80, -p 127.0.0.1:P2:22 and a named volume: the guest's nginx
 *      answers through the container (the landing page at /, a WebSocket upgrade at /ssh carrying the SSH banner), the
 *      manifest's services run as systemd units, no build-time account is left, and a file written in the
 *      guest over SSH is still there after a container restart (the guest powers off cleanly on stop).
 * One VM at a time; the build's own boot is the boot check (a second boot would only cost time).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { RegistryClient } from '../../src/registry/client.js';
import { describeImage } from '../../src/registry/manifest-list.js';
import { waitForHttp } from '../../src/qemu/boot.js';
import { onPath } from '../../src/qemu/exec.js';
import { makeKeyPair } from '../../src/qemu/keys.js';
import { freePorts } from '../../src/qemu/ports.js';
import { sshRun, type SshTarget } from '../../src/qemu/ssh.js';
import { demux, runId, testEnv } from '../helpers/env.js';
import { CLI, REPO_ROOT } from '../helpers/project.js';

const env = testEnv();
const id = runId();
const gitTag = `qemu-it-${id}`;
const TOOLS = ['qemu-system-x86_64', 'qemu-img', 'mmdebstrap', 'mkfs.ext4', 'genisoimage', 'ssh', 'ssh-keygen'];
const missing = TOOLS.filter((t) => !onPath(t));
const skip =
  process.getuid?.() !== 0
    ? 'needs root (mmdebstrap)'
    : missing.length
      ? `missing ${missing.join(', ')} (test/env/setup.sh installs them)`
      : false;

/** Runs the real CLI (bounded) in the project copy. */
async function idekube(dir: string, args: string[], timeoutMs: number) {
  const t0 = Date.now();
  const r = await execa(process.execPath, [CLI, '-C', dir, '--git-tag', gitTag, ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { NO_COLOR: '1' },
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), seconds: (Date.now() - t0) / 1000 };
}

/**
 * A WebSocket client in a few lines (Node 20 has none built in everywhere): HTTP Upgrade over a socket, check
 * the accept key, then read frames until a line of payload arrived. Returns the first payload bytes.
 */
async function webSocketFirstLine(port: number, path: string, timeoutMs = 20_000): Promise<{ status: string; text: string }> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no WebSocket answer on 127.0.0.1:${port}${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    let buf = Buffer.alloc(0);
    let status = '';
    let payload = Buffer.alloc(0);
    const done = (e?: Error) => {
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve({ status, text: payload.toString('latin1') });
    };
    sock.on('error', (e) => done(e));
    sock.on('connect', () => {
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!status) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        status = head.split('\r\n')[0]!;
        if (!/ 101 /.test(status)) return done(new Error(`no upgrade: ${status}`));
        if (!new RegExp(`^sec-websocket-accept: ${accept.replace(/[+/]/g, '\\$&')}$`, 'im').test(head))
          return done(new Error('wrong Sec-WebSocket-Accept'));
        buf = buf.subarray(end + 4);
      }
      // frames: FIN/opcode, mask bit + length (7, 16 or 64 bits); servers do not mask
      while (buf.length >= 2) {
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const opcode = buf[0]! & 0x0f;
        if (opcode === 1 || opcode === 2 || opcode === 0) payload = Buffer.concat([payload, buf.subarray(off, off + len)]);
        if (opcode === 8) return done(new Error('the server closed the WebSocket'));
        buf = buf.subarray(off + len);
      }
      if (payload.includes('\n')) done();
    });
  });
}

describe('QEMU amd64: root disk of web/base, cache, boot checks, VM-in-container image', { skip, timeout: 30 * 60_000 }, () => {
  let dir: string;
  let engine: Engine;
  let disk: { disk: string; kernel: string; initrd: string; key: string; boot: string };
  let imageRef = '';
  const container = `idekube-qemu-it-${id}`;
  const volume = `idekube-qemu-it-${id}-data`;
  const timings: Record<string, number> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idekube-qemu-it-'));
    const fixture = join(REPO_ROOT, 'test/fixtures/catalog');
    for (const n of ['.dockerargs', 'flavors', 'artifacts']) cpSync(join(fixture, n), join(dir, n), { recursive: true });
    // the VM is provisioned without web/base's terminal: compiling ttyd under TCG would add minutes, and the
    // terminal is checked on the container image
    const manifest = join(dir, 'flavors/web/base/flavor.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/, terminal\]/, ']'));
    engine = await connectEngine();
  });
  after(async () => {
    if (engine) {
      await engine
        .getContainer(container)
        .remove({ force: true, v: false })
        .catch(() => {});
      await engine
        .getVolume(volume)
        .remove()
        .catch(() => {});
      if (imageRef)
        await engine
          .getImage(imageRef)
          .remove({ force: true })
          .catch(() => {});
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`# qemu amd64 timings (s): ${JSON.stringify(timings)}\n`);
  });

  it('builds the root disk from Debian packages, provisioned from the manifest, and shuts it down cleanly', {
    timeout: 20 * 60_000,
  }, async () => {
    const r = await idekube(dir, ['qemu', 'rootdisk', 'web/base', '--arch', 'amd64', '--json'], 20 * 60_000);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    timings.rootdisk = r.seconds;
    Object.assign(timings, out.timings);
    assert.equal(out.cached, false);
    assert.equal(out.boot, 'kernel');
    assert.equal(out.base.kind, 'debian');
    for (const f of [out.disk, out.kernel, out.initrd]) assert.ok(existsSync(f), f);
    disk = { disk: out.disk, kernel: out.kernel, initrd: out.initrd, key: out.key, boot: out.boot };
    // KVM: auto probes it; /dev/kvm exists here but guests hang, so TCG must be chosen after the probe
    assert.match(r.stderr, /accelerator: (TCG: (there is no \/dev\/kvm|.*KVM.*(marker|exited))|KVM: a KVM boot reached)/);
    if (existsSync('/dev/kvm')) assert.ok(existsSync(join(dir, '.idekube/qemu/kvm-probe.json')), 'the probe verdict is recorded');
    assert.match(
      r.stderr,
      /provisioning from the manifest: layers debian-base, ssh-websockify, skel, user; services nginx\.service, ssh\.service, idekube-ssh-ws\.service/,
    );
    assert.match(r.stderr, /nginx serves the landing page at \//);
    assert.match(r.stderr, /guest powered off cleanly/);
    assert.deepEqual(readdirSync(join(dir, '.idekube/qemu/tmp')), [], 'no work folder left');
    const logs = out.logs as string;
    assert.match(readFileSync(join(logs, 'serial.log'), 'utf8'), /reboot: Power down/);
  });

  it('a second run with nothing changed is a cache hit', async () => {
    const r = await idekube(dir, ['qemu', 'rootdisk', 'web/base', '--arch', 'amd64', '--json'], 60_000);
    assert.equal(r.code, 0, r.stderr);
    timings.cacheHit = r.seconds;
    const out = JSON.parse(r.stdout);
    assert.equal(out.cached, true);
    assert.equal(out.disk, disk.disk);
    assert.match(r.stderr, /cache hit: web\/base amd64/);
    assert.ok(r.seconds < 20, `took ${r.seconds} s`);
  });

  it('builds and pushes the VM-in-container image <NAME>-qemu:web-base-<tag>-amd64', { timeout: 20 * 60_000 }, async () => {
    const r = await idekube(dir, ['qemu', 'image', 'web/base', '--arch', 'amd64', '--push', '--json'], 20 * 60_000);
    assert.equal(r.code, 0, r.stderr);
    timings.image = r.seconds;
    const out = JSON.parse(r.stdout);
    imageRef = out.images[0].ref;
    assert.equal(imageRef, `${env.registry}/idekube-test/fixture-qemu:web-base-${gitTag}-amd64`);
    assert.match(out.images[0].digest, /^sha256:/);
    assert.equal(out.images[0].diskCached, true, 'the image reuses the cached root disk');
    assert.match(r.stderr, /cache hit: web\/base amd64/);
    // read back from the registry: an amd64 image
    const d = await describeImage(new RegistryClient(env.registry), { platform: 'linux/amd64', ref: imageRef });
    assert.equal(d.platform?.architecture, 'amd64');
    // a list only once every declared platform is pushed
    assert.equal(out.list.written, false);
    assert.match(out.list.reason, /linux\/arm64 has no per-arch image/);
    const inspect = await engine.getImage(imageRef).inspect();
    assert.equal(inspect.Architecture, 'amd64');
    assert.equal(inspect.Config.Labels['io.idekube.vm.disk'], disk.key);
    assert.deepEqual(Object.keys(inspect.Config.Volumes ?? {}), ['/var/lib/data']);
  });

  it('runs the image: nginx through the container, and a file written in the guest survives a restart', {
    timeout: 15 * 60_000,
  }, async () => {
    const work = mkdtempSync(join(dir, 'container-'));
    const pair = await makeKeyPair(work, 'idekube-qemu-it-container');
    const [webPort, sshPort] = await freePorts(2);
    await engine.createVolume({ Name: volume, Labels: { 'io.idekube.test': id } });
    const c = await engine.createContainer({
      name: container,
      Image: imageRef,
      Env: [
        'IDEKUBE_VM_MEMORY=1G',
        'IDEKUBE_VM_CPU=2',
        `IDEKUBE_AUTHORIZED_KEYS=${Buffer.from(`${pair.publicText}\n`).toString('base64')}`,
      ],
      ExposedPorts: { '80/tcp': {}, '22/tcp': {} },
      HostConfig: {
        PortBindings: {
          '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(webPort) }],
          '22/tcp': [{ HostIp: '127.0.0.1', HostPort: String(sshPort) }],
        },
        Mounts: [{ Type: 'volume', Source: volume, Target: '/var/lib/data' }],
      },
      Labels: { 'io.idekube.test': id },
    });
    const logs = async () => demux((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer);
    const target: SshTarget = { port: sshPort!, user: 'idekube', keyFile: pair.privateKey, knownHosts: join(work, 'known_hosts') };
    const waitSsh = async (what: string) => {
      const t0 = Date.now();
      while (true) {
        try {
          await sshRun(target, ['true'], { what: 'ssh', timeoutMs: 20_000, connectTimeoutS: 5 });
          return (Date.now() - t0) / 1000;
        } catch (e) {
          const info = await c.inspect();
          if (!info.State.Running) assert.fail(`the container stopped (${what}): ${(await logs()).slice(-3000)}`);
          if (Date.now() - t0 > 420_000)
            assert.fail(`no SSH through the container within 420 s (${what}): ${(e as Error).message}\n${(await logs()).slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    };
    await c.start();
    timings.containerBootToSsh = await waitSsh('first start');
    const http = await waitForHttp(webPort!, 120_000);
    assert.equal(http.status, 200, 'nginx of the guest serves its landing page through the container');
    assert.match(http.server, /nginx/);
    const ws = await webSocketFirstLine(webPort!, '/ssh');
    assert.match(ws.status, /^HTTP\/1\.1 101 /);
    assert.match(ws.text, /^SSH-2\.0-/, 'SSH over WebSocket at /ssh');
    const run = async (...w: string[]) => (await sshRun(target, w, { what: w.join(' '), timeoutMs: 60_000 })).stdout.trim();
    assert.equal(await run('id', '-u'), '1000', 'idekube is uid 1000 (the user layer)');
    assert.equal(
      await run('systemctl', 'is-active', 'nginx', 'ssh', 'idekube-ssh-ws', 'idekube-health', 'idekube-seed'),
      'active\nactive\nactive\nactive\nactive',
    );
    assert.match(await run('curl', '-s', 'http://127.0.0.1/health'), /"status": "healthy"/, '/health of the guest');
    assert.match(await run('cat', '/etc/idekube/flavor.json'), /"flavor": "web\/base"/);
    assert.match(await run('cat', '/etc/profile.d/idekube-env.sh'), /^export TZ="Etc\/UTC"$/m);
    assert.ok(!(await run('ls', '-A', '/etc/nginx/sites-enabled')).split('\n').includes('default'), 'the default site is removed');
    const passwd = await run('getent', 'passwd');
    assert.ok(!/^idekube-provision:/m.test(passwd), 'the provisioning account was removed before publishing');
    assert.ok(!(await run('ls', '/tmp')).includes('idekube'), 'the upload was removed');
    const token = `persist-${id}-${randomBytes(4).toString('hex')}`;
    const tokenFile = join(work, 'token');
    writeFileSync(tokenFile, `${token}\n`);
    await sshRun(target, ['tee', `/home/idekube/${token}.txt`], {
      what: 'write a file in the guest',
      timeoutMs: 60_000,
      inputFile: tokenFile,
    });
    await sshRun(target, ['sync'], { what: 'sync', timeoutMs: 60_000 });
    assert.ok(/first start: creating \/var\/lib\/data\/disk\.qcow2/.test(await logs()), 'the first start creates the overlay');
    const t0 = Date.now();
    await c.restart({ t: 150 });
    timings.containerRestart = (Date.now() - t0) / 1000;
    const afterRestart = await logs();
    assert.ok(/reboot: Power down/.test(afterRestart), 'the guest powered off cleanly on docker restart');
    assert.ok(!/did not power off/.test(afterRestart), 'within the stop bound');
    timings.containerSecondBootToSsh = await waitSsh('after the restart');
    const second = await logs();
    assert.ok(/reusing \/var\/lib\/data\/disk\.qcow2/.test(second), 'the second start reuses the disk in the volume');
    assert.equal(second.match(/first start: creating/g)?.length, 1, 'the disk was created once');
    const back = await sshRun(target, ['cat', `/home/idekube/${token}.txt`], { what: 'read the file back', timeoutMs: 60_000 });
    assert.equal(back.stdout.trim(), token);
    // growth to the default IDEKUBE_VM_DISK_SIZE (20G): the guest's root file system followed
    const df = await sshRun(target, ['df', '--output=size', '-B', '1G', '/'], { what: 'df', timeoutMs: 60_000 });
    assert.ok(Number(df.stdout.trim().split('\n').pop()) >= 18, `root file system size: ${df.stdout}`);
    await c.stop({ t: 150 });
  });
});
