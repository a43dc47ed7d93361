/**
 * `--engine PLATFORM=ADDRESS` sends each platform's builds to its own engine, and `idekube doctor` reports the
 * environment with a fix for each problem. The test environment has two real engines (test/env/setup.sh): bookworm's
 * dockerd 20.10 on /var/run/docker.sock, and the current dockerd 28 (containerd image store, buildx 0.29) beside it;
 * the routing test sends one platform to each and checks every image landed on its engine and not on the other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const env = testEnv();
const id = runId();
/** Bookworm's dockerd (the default engine); the current one is env.current.DOCKER_HOST. */
const BOOKWORM = 'unix:///var/run/docker.sock';
const NO_DAEMON = 'unix:///tmp/idekube-no-daemon.sock';
const notFound = (e: { statusCode?: number }) => e.statusCode === 404;

describe('engines and doctor', { timeout: 600_000 }, () => {
  let engine: Engine;
  let current: Engine;
  let dir: string;
  before(async () => {
    engine = await connectEngine(BOOKWORM);
    current = await connectEngine(env.current.DOCKER_HOST);
    // two different engines, or the routing test below proves nothing
    assert.match((await engine.version()).Version, /^20\.10\./, `${BOOKWORM} is bookworm's dockerd`);
    assert.match((await current.version()).Version, /^28\./, `${env.current.DOCKER_HOST} is the current dockerd`);
    dir = makeProject({
      '.dockerargs': `REGISTRY=${env.registry}\nAUTHOR=idekube-it\nNAME=engines\nBASE_IMAGE=${env.baseImage}\n`,
      'flavors/layers/stamp.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
      'artifacts/layers/stamp/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\nuname -m > /stamp\necho "$RUN_ID" >> /stamp\n',
      'flavors/e/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [stamp]\n',
    });
  });
  after(async () => {
    cleanup(dir);
    const refs = ['', '-routed'].flatMap((t) => ['amd64', 'arm64'].map((a) => `${env.registry}/idekube-it/engines:e-base-${id}${t}-${a}`));
    await removeImages(engine, refs);
    await removeImages(current, refs);
  });

  it('a platform sent to an engine that is not there fails with that engine named, exit 1', () => {
    const r = runCli(
      [
        '-C',
        dir,
        '--git-tag',
        id,
        '--set',
        `RUN_ID=${id}`,
        'build',
        'e/base',
        '--engine',
        'linux/arm64=unix:///tmp/idekube-arm-engine.sock',
      ],
      { timeoutMs: 300_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Docker Engine not reachable at unix:\/\/\/tmp\/idekube-arm-engine\.sock/);
  });

  it('each platform builds on the engine given for it, and only there', async () => {
    const tag = `${id}-routed`;
    const given = { amd64: { engine: current, name: 'the current dockerd' }, arm64: { engine, name: "bookworm's dockerd" } };
    // DOCKER_HOST names no engine: a build that ignored --engine would fail instead of landing on a default one
    const r = runCli(
      [
        '-C',
        dir,
        '--git-tag',
        tag,
        '--set',
        `RUN_ID=${id}`,
        '--json',
        'build',
        'e/base',
        '--driver',
        'docker',
        '--engine',
        `linux/amd64=${env.current.DOCKER_HOST}`,
        '--engine',
        `linux/arm64=${BOOKWORM}`,
      ],
      { env: { DOCKER_HOST: NO_DAEMON }, timeoutMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).targets.map((t: { status: string }) => t.status),
      ['built', 'built'],
    );
    for (const [arch, uname, other] of [
      ['amd64', 'x86_64', 'arm64'],
      ['arm64', 'aarch64', 'amd64'],
    ] as const) {
      const ref = `${env.registry}/idekube-it/engines:e-base-${tag}-${arch}`;
      await given[arch].engine
        .getImage(ref)
        .inspect()
        .catch((e: Error) => assert.fail(`${ref} is not on ${given[arch].name}: ${e.message}`));
      const out = await runOnce(given[arch].engine, ref, ['cat', '/stamp']);
      assert.deepEqual(out.output.trim().split('\n'), [uname, id], `${ref} on ${given[arch].name}`);
      await assert.rejects(given[other].engine.getImage(ref).inspect(), notFound, `${ref} must not be on ${given[other].name}`);
    }
  });

  it('a local single-platform build also tags the plain reference (docker run <ref> works); a two-platform one does not', async () => {
    const plain = `${env.registry}/idekube-it/engines:e-base-${id}-single`;
    const r = runCli(
      [
        '-C',
        dir,
        '--git-tag',
        `${id}-single`,
        '--set',
        `RUN_ID=${id}`,
        'build',
        'e/base',
        '--driver',
        'docker',
        '--platform',
        'linux/amd64',
      ],
      { timeoutMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const perArch = await engine.getImage(`${plain}-amd64`).inspect();
    const same = await engine.getImage(plain).inspect();
    assert.equal(same.Id, perArch.Id, 'the plain reference is the image just built');
    const out = await runOnce(engine, plain, ['cat', '/stamp']);
    assert.deepEqual(out.output.trim().split('\n'), ['x86_64', id]);
    // the two-platform build of the test above made no plain tag: it would have to pick one of the two
    await assert.rejects(engine.getImage(`${env.registry}/idekube-it/engines:e-base-${id}`).inspect(), /no such image/i);
    await removeImages(engine, [plain, `${plain}-amd64`]);
  });

  it('--engine with a malformed value is bad input (exit 2)', () => {
    const r = runCli(['-C', dir, 'build', 'e/base', '--engine', 'arm64=ssh://x']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n')[0], 'idekube: error: --engine "arm64=ssh://x": expected PLATFORM=ADDRESS');
  });

  it("doctor on bookworm's dockerd: engine 20.10, emulation and disk fine; buildx (Debian 12 ships none) a warning with a fix", () => {
    const r = runCli(['-C', dir, 'doctor'], { env: { DOCKER_HOST: BOOKWORM } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^✔ engine\s+Docker Engine 20\.10\.\S+ \(API [\d.]+\) at unix:\/\/\/var\/run\/docker\.sock/m);
    assert.match(r.stdout, /^✔ platform linux\/arm64\s+emulated by qemu-aarch64 \(binfmt flags [A-Z]*F/m);
    assert.match(r.stdout, /^✔ disk\s+[\d.]+ GiB free/m);
    assert.match(r.stdout, /^! buildx\s+docker buildx is not installed[^\n]*\n\s+fix: install the docker-buildx plugin/m);
    assert.match(r.stdout, /^✔ registry\s+127\.0\.0\.1:\d+ is a loopback registry/m);
  });

  it('doctor on the current dockerd (its Docker config and CLI): engine 28, buildx 0.29.1 with the containerd store, emulation and disk fine', () => {
    const r = runCli(['-C', dir, 'doctor'], { env: { ...env.current } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const host = env.current.DOCKER_HOST.replace(/[/.]/g, '\\$&');
    assert.match(r.stdout, new RegExp(`^✔ engine\\s+Docker Engine 28\\.\\S+ \\(API [\\d.]+\\) at ${host}`, 'm'));
    assert.match(
      r.stdout,
      /^✔ buildx\s+docker buildx 0\.29\.1; builder \S+ \(driver docker, containerd image store; [^)]*linux\/arm64[^)]*\)$/m,
    );
    assert.doesNotMatch(r.stdout, /^! buildx/m);
    assert.match(r.stdout, /^✔ platform linux\/arm64\s+emulated by qemu-aarch64 \(binfmt flags [A-Z]*F/m);
    assert.match(r.stdout, /^✔ disk\s+[\d.]+ GiB free/m);
    assert.match(r.stdout, /^✔ registry\s+127\.0\.0\.1:\d+ is a loopback registry/m);
  });

  it('doctor: no daemon is a failure with a fix, exit 1', () => {
    const r = runCli(['-C', dir, 'doctor'], { env: { DOCKER_HOST: NO_DAEMON } });
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^✖ engine\s+Docker Engine not reachable at unix:\/\/\/tmp\/idekube-no-daemon\.sock[^\n]*\n\s+fix: start dockerd/m,
    );
    assert.match(r.stderr, /idekube: failed: 1 problem\(s\): engine/);
  });
});
