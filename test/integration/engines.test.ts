/**
 * `--engine PLATFORM=ADDRESS` sends each platform's builds to its own engine, and `idekube doctor` reports the
 * environment with a fix for each problem. (A second dockerd is not started on the test machine: starting one
 * there removed the first daemon's docker0 bridge; both addresses below reach the one engine or none.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const env = testEnv();
const id = runId();

describe('engines and doctor', { timeout: 600_000 }, () => {
  let engine: Engine;
  let dir: string;
  before(async () => {
    engine = await connectEngine();
    dir = makeProject({
      '.dockerargs': `REGISTRY=${env.registry}\nAUTHOR=idekube-it\nNAME=engines\nBASE_IMAGE=${env.baseImage}\n`,
      'flavors/layers/stamp.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
      'artifacts/layers/stamp/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\nuname -m > /stamp\necho "$RUN_ID" >> /stamp\n',
      'flavors/e/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [stamp]\n',
    });
  });
  after(async () => {
    cleanup(dir);
    await removeImages(engine, ['amd64', 'arm64'].map((a) => `${env.registry}/idekube-it/engines:e-base-${id}-${a}`));
  });

  it('a platform sent to an engine that is not there fails with that engine named, exit 1', () => {
    const r = runCli(['-C', dir, '--git-tag', id, '--set', `RUN_ID=${id}`, 'build', 'e/base', '--engine', 'linux/arm64=unix:///tmp/idekube-arm-engine.sock'], { timeoutMs: 300_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Docker Engine not reachable at unix:\/\/\/tmp\/idekube-arm-engine\.sock/);
  });

  it('each platform builds on the engine given for it', async () => {
    const r = runCli(['-C', dir, '--git-tag', id, '--set', `RUN_ID=${id}`, '--json', 'build', 'e/base', '--engine', 'linux/arm64=unix:///var/run/docker.sock', '--engine', 'linux/amd64=unix:///var/run/docker.sock'], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).targets.map((t: { status: string }) => t.status), ['built', 'built']);
    for (const [arch, uname] of [['amd64', 'x86_64'], ['arm64', 'aarch64']]) {
      const out = await runOnce(engine, `${env.registry}/idekube-it/engines:e-base-${id}-${arch}`, ['cat', '/stamp']);
      assert.deepEqual(out.output.trim().split('\n'), [uname, id]);
    }
  });

  it('a local single-platform build also tags the plain reference (docker run <ref> works); a two-platform one does not', async () => {
    const plain = `${env.registry}/idekube-it/engines:e-base-${id}-single`;
    const r = runCli(['-C', dir, '--git-tag', `${id}-single`, '--set', `RUN_ID=${id}`, 'build', 'e/base', '--driver', 'docker', '--platform', 'linux/amd64'], { timeoutMs: 300_000 });
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

  it('doctor: engine, emulation and disk are fine here; a missing buildx is a warning with a fix', () => {
    const r = runCli(['-C', dir, 'doctor']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^✔ engine\s+Docker Engine \d+\.\d+/m);
    assert.match(r.stdout, /^✔ platform linux\/arm64\s+emulated by qemu-aarch64 \(binfmt flags [A-Z]*F/m);
    assert.match(r.stdout, /^✔ disk\s+[\d.]+ GiB free/m);
    assert.match(r.stdout, /^! buildx\s+docker buildx is not installed[^\n]*\n\s+fix: install the docker-buildx plugin/m);
    assert.match(r.stdout, /^✔ registry\s+127\.0\.0\.1:\d+ is a loopback registry/m);
  });

  it('doctor: no daemon is a failure with a fix, exit 1', () => {
    const r = runCli(['-C', dir, 'doctor'], { env: { DOCKER_HOST: 'unix:///tmp/idekube-no-daemon.sock' } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^✖ engine\s+Docker Engine not reachable at unix:\/\/\/tmp\/idekube-no-daemon\.sock[^\n]*\n\s+fix: start dockerd/m);
    assert.match(r.stderr, /idekube: failed: 1 problem\(s\): engine/);
  });
});
