/**
 * `idekube test` on the fixture catalog, for real: every flavor passes on amd64 (SSH over WebSocket with a full
 * login, the web terminal, Jupyter, the XFCE desktop through noVNC with a screenshot, the runtime init, the access
 * token, /health and its transitions, uid remap and the host keys kept in the home), and web/base passes on
 * arm64 under emulation. The GPU check says "skipped: no GPU" on this GPU-less machine — never a pass.
 * Images are built once for this file, under a tag of their own.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import type { ImageReport, TestReport } from '../../src/verify/types.js';
import { removeImages, runId } from '../helpers/env.js';
import { REPO_ROOT, runCli } from '../helpers/project.js';

const tag = `it-${runId()}`;
const fixture = `${REPO_ROOT}/test/fixtures/catalog`;
const ref = (flavor: string, arch: string) => `127.0.0.1:5000/idekube-test/fixture:${flavor.replace('/', '-')}-${tag}-${arch}`;
const built = [
  ...['web/base', 'web/extra', 'web/jupyter', 'desk/base'].map((f) => ref(f, 'amd64')),
  ref('web/base', 'arm64'),
  ref('web/extra', 'arm64'),
];
// kept after the run (CI uploads dist/test-artifacts/): the desktop a maintainer would look at
const shot = join(REPO_ROOT, 'dist/test-artifacts/fixture-desktop.png');

const RUNTIME = [
  'programs',
  'users',
  'home init',
  'home volume',
  'home keeps changes',
  'shell',
  'hooks',
  'any uid',
  'init container',
  'chroot',
];
/** The runtime contract's front door, on every image with routes: the token, /health, IPv6, the host key kept. */
const CONTRACT = [
  'landing',
  'health',
  'access open',
  'ipv6',
  'auth 401',
  'auth query',
  'auth header',
  'auth cookie',
  'auth websocket',
  'auth open routes',
  'auth secret',
  'health degraded',
  'health 502',
  'access invalid',
  'host key kept',
];
/** Checks that may be skipped here, and the reason they must give. */
const MAY_SKIP: Record<string, RegExp> = {
  gpu: /^no GPU/,
  ipv6: /^the container has no IPv6/,
};

function byName(r: ImageReport): Record<string, { status: string; message: string }> {
  return Object.fromEntries(r.checks.map((c) => [c.name, c]));
}

/** Every container and volume a session made is gone. */
async function assertCleanedUp(engine: Engine, sessions: string[]): Promise<void> {
  for (const s of sessions) {
    const containers = await engine.listContainers({ all: true, filters: { label: [`io.idekube.test.session=${s}`] } });
    assert.deepEqual(
      containers.map((c) => c.Names),
      [],
      `containers of session ${s} left behind`,
    );
    const volumes = (await engine.listVolumes({ filters: { label: [`io.idekube.test.session=${s}`] } })).Volumes ?? [];
    assert.deepEqual(
      volumes.map((v) => v.Name),
      [],
      `volumes of session ${s} left behind`,
    );
  }
}

describe('idekube test passes on every fixture flavor', { timeout: 1_800_000 }, () => {
  let engine: Engine;
  let amd64: { code: number; report: TestReport; stderr: string };
  before(async () => {
    engine = await connectEngine();
    const b = runCli(['-C', fixture, '--git-tag', tag, 'build', '--all', '--platform', 'linux/amd64,linux/arm64', '--progress', 'plain'], {
      timeoutMs: 1_500_000,
    });
    assert.equal(b.code, 0, b.stderr.slice(-3000));
    const t0 = Date.now();
    const r = runCli(['-C', fixture, '--git-tag', tag, '--json', 'test', '--all', '--platform', 'linux/amd64', '--screenshot', shot], {
      timeoutMs: 900_000,
    });
    process.stderr.write(`# idekube test --all (amd64, 4 images): ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    amd64 = { code: r.code, report: JSON.parse(r.stdout || '{"images":[]}') as TestReport, stderr: r.stderr };
  });
  after(async () => {
    await removeImages(engine, built);
  });

  it('exits 0 and every image passes', () => {
    const failed = amd64.report.images.flatMap((i) =>
      i.checks.filter((c) => c.status === 'fail').map((c) => `${i.flavor} ${c.name}: ${c.message}`),
    );
    assert.deepEqual(failed, []);
    assert.equal(amd64.code, 0, amd64.stderr.slice(-3000));
    assert.equal(amd64.report.passed, true);
    assert.deepEqual(amd64.report.images.map((i) => `${i.flavor}@${i.platform}`).sort(), [
      'desk/base@linux/amd64',
      'web/base@linux/amd64',
      'web/extra@linux/amd64',
      'web/jupyter@linux/amd64',
    ]);
  });

  it('each image got the checks its services call for, and the runtime checks', () => {
    const want: Record<string, string[]> = {
      'web/base': ['nginx', 'ssh banner', 'ssh login', 'terminal', ...RUNTIME, 'bad keys', ...CONTRACT, 'uid remap'],
      'web/extra': ['nginx', 'ssh banner', 'ssh login', 'terminal', ...RUNTIME, 'bad keys', ...CONTRACT, 'uid remap'],
      'web/jupyter': [
        'nginx',
        'redirect /jupyter',
        'jupyter',
        'ssh banner',
        'ssh login',
        'terminal',
        ...RUNTIME,
        'bad keys',
        ...CONTRACT,
        'uid remap',
      ],
      'desk/base': ['nginx', 'redirect /vnc', 'vnc', 'gpu', 'screenshot', 'ssh banner', 'ssh login', ...RUNTIME, 'bad keys', ...CONTRACT],
    };
    for (const image of amd64.report.images) {
      const checks = byName(image);
      for (const name of want[image.flavor!]!) assert.ok(checks[name], `${image.flavor}: ${name} ran`);
      for (const [name, c] of Object.entries(checks)) {
        const skippable = MAY_SKIP[name] ?? (image.flavor === 'desk/base' && name === 'uid remap' ? /no terminal service/ : undefined);
        if (skippable && c.status === 'skipped') assert.match(c.message, skippable, `${image.flavor} ${name}`);
        else assert.equal(c.status, 'pass', `${image.flavor} ${name}: ${c.message}`);
      }
      assert.ok(!('jupyter' in checks) || image.flavor === 'web/jupyter');
      assert.ok(!('vnc' in checks) || image.flavor === 'desk/base');
      assert.ok(!('terminal' in checks) || image.flavor !== 'desk/base');
    }
  });

  it('the terminal runs what is typed as idekube; the token works every way; /health follows the services; the home is remapped once', () => {
    const base = byName(amd64.report.images.find((i) => i.flavor === 'web/base')!);
    assert.match(base.terminal!.message, /WebSocket \/terminal\/ws \(tty\): typed `id -un` → idekube/);
    assert.match(base.landing!.message, /listing all 2 route\(s\) \(\/ssh, \/terminal\/\); GET \/idekube-test-no-such-path → 302 \//);
    assert.match(base.health!.message, /GET \/health → 200 healthy: ssh, terminal up \(main: terminal\)/);
    assert.match(base['auth 401']!.message, /GET \/terminal\/ → 401 with the token form/);
    assert.match(base['auth query']!.message, /→ 302 \/terminal\/\?keep=1 with Set-Cookie idekube_container_access_token/);
    assert.match(base['auth websocket']!.message, /without a token → 401, with the cookie → 101/);
    assert.match(base['auth open routes']!.message, /\/ssh → 101, \/ssh\/ → 101, \/health → 200/);
    assert.match(
      base['health degraded']!.message,
      /service ssh's programs stopped .*200 degraded, ssh healthy: false, terminal \(main\) healthy: true/,
    );
    assert.match(
      base['health 502']!.message,
      /main service terminal's programs stopped .*502 degraded, terminal healthy: false, in \d+ ms/,
    );
    assert.match(base['access invalid']!.message, /exit 1, .*refusing to start unprotected/);
    assert.match(base['uid remap']!.message, /the terminal's shell runs as uid 2345.*did not walk it: a file of uid 1000 kept its owner/);
    assert.match(base['host key kept']!.message, /presents the same ed25519 host key \(SHA256:/);
    const jupyter = byName(amd64.report.images.find((i) => i.flavor === 'web/jupyter')!);
    assert.match(jupyter['health 502']!.message, /main service jupyter's programs stopped/, 'the last main: true wins');
    const desk = byName(amd64.report.images.find((i) => i.flavor === 'desk/base')!);
    assert.match(desk['auth websocket']!.message, /WebSocket \/vnc\/websockify/);
    assert.match(desk['health 502']!.message, /main service vnc's programs stopped/);
  });

  it('the SSH login went through the WebSocket as idekube, and the desktop greets with RFB', () => {
    const desk = byName(amd64.report.images.find((i) => i.flavor === 'desk/base')!);
    assert.match(desk['ssh login']!.message, /logged in as idekube through \/ssh .*`id -un` → idekube/);
    assert.match(desk.vnc!.message, /greeting "RFB 003\.00\d"/);
    assert.match(
      byName(amd64.report.images.find((i) => i.flavor === 'web/jupyter')!).jupyter!.message,
      /\/jupyter\/api\/status → 200 JSON/,
    );
  });

  it('without a GPU the gpu check says "skipped: no GPU" and the desktop renders in software', () => {
    const gpu = byName(amd64.report.images.find((i) => i.flavor === 'desk/base')!).gpu!;
    assert.equal(gpu.status, 'skipped');
    assert.match(gpu.message, /^no GPU \(.+\); the desktop renders in software/);
  });

  it('the screenshot is a real desktop: 1280×800, not blank, many colours', () => {
    const desk = amd64.report.images.find((i) => i.flavor === 'desk/base')!;
    assert.equal(desk.screenshot, shot);
    const png = PNG.sync.read(readFileSync(shot));
    assert.deepEqual([png.width, png.height], [1280, 800]);
    const counts = new Map<number, number>();
    for (let i = 0; i < png.data.length; i += 4) {
      const k = (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const top = Math.max(...counts.values()) / (png.width * png.height);
    assert.ok(counts.size >= 50, `${counts.size} distinct colours`);
    assert.ok(top < 0.98, `the most frequent colour covers ${(top * 100).toFixed(1)}%`);
    // the top panel and the bottom dock differ from the wallpaper in the middle
    const at = (x: number, y: number) => png.data.readUInt32BE((y * png.width + x) * 4);
    const middle = at(640, 400);
    assert.ok(at(640, 5) !== middle || at(640, 790) !== middle, 'panel or dock drawn over the wallpaper');
  });

  it('removes every container and volume it created', async () => {
    await assertCleanedUp(
      engine,
      amd64.report.images.map((i) => i.session),
    );
  });

  it('web/base passes on arm64 (emulated)', async () => {
    const t0 = Date.now();
    const r = runCli(['-C', fixture, '--git-tag', tag, '--json', 'test', 'web/base', '--platform', 'linux/arm64'], { timeoutMs: 900_000 });
    process.stderr.write(`# idekube test web/base (arm64, emulated): ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const report = JSON.parse(r.stdout) as TestReport;
    const failed = report.images.flatMap((i) =>
      i.checks
        .filter((c) => c.status !== 'pass' && !(c.status === 'skipped' && MAY_SKIP[c.name]?.test(c.message)))
        .map((c) => `${c.status} ${c.name}: ${c.message}`),
    );
    assert.deepEqual(failed, []);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.deepEqual(
      report.images.map((i) => [i.image, i.platform]),
      [[ref('web/base', 'arm64'), 'linux/arm64']],
    );
    assert.match(byName(report.images[0]!)['ssh login']!.message, /`id -un` → idekube/);
    await assertCleanedUp(
      engine,
      report.images.map((i) => i.session),
    );
  });
});
