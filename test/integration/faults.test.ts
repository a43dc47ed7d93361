/**
 * Faults leave nothing half-published: a registry that goes away before the manifest step, a daemon that is not
 * there, a failing parent (its children are skipped, a sibling still builds), and SIGINT during a build.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { startCli } from '../helpers/cli-async.js';
import { removeImages, runId, testEnv } from '../helpers/env.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';
import { getManifest, startRegistry, type ThrowawayRegistry } from '../helpers/registry.js';

const env = testEnv();
const id = runId();

/** PIDs of the slow layer's `sleep 300` for this run (the RUN step of a build in progress). */
function sleepers(runId: string): string[] {
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const envs = readFileSync(`/proc/${p}/environ`, 'utf8');
      return cmd === 'sleep\u0000300\u0000' && envs.includes(`RUN_ID=${runId}`);
    } catch {
      return false;
    }
  });
}

/** A tiny catalog on the local Debian base: a root that fails, its child, a sibling that works, a slow one. */
function faultCatalog(registry: string): string {
  const script = (body: string) => `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`;
  return makeProject({
    '.dockerargs': `REGISTRY=${registry}\nAUTHOR=idekube-it\nNAME=faults\nBASE_IMAGE=${env.baseImage}\n`,
    'flavors/layers/ok.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
    'artifacts/layers/ok/install.sh': script('echo "ok ${RUN_ID}" > /ok'),
    'flavors/layers/broken.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
    'artifacts/layers/broken/install.sh': script('echo "this layer fails on purpose ${RUN_ID}" >&2\nexit 3'),
    'flavors/layers/child.yaml': 'run: install.sh\n',
    'artifacts/layers/child/install.sh': script('echo child > /child'),
    'flavors/layers/slow.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
    'artifacts/layers/slow/install.sh': script('echo "slow ${RUN_ID}"\nsleep 300'),
    'flavors/f/good/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [ok]\n',
    'flavors/f/bad/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nplatforms: [linux/amd64]\nlayers: [broken]\n',
    'flavors/f/bad-child/flavor.yaml': 'from:\n  parent: f/bad\nlayers: [child]\n',
    'flavors/f/slow/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nplatforms: [linux/amd64]\nlayers: [slow]\n',
    'flavors/f/amd/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nplatforms: [linux/amd64]\nlayers: [ok]\n',
  });
}

describe('faults leave nothing half-published', { timeout: 900_000 }, () => {
  let engine: Engine;
  let registry: ThrowawayRegistry;
  let dir: string;
  const made: string[] = [];
  before(async () => {
    engine = await connectEngine();
    registry = await startRegistry();
    dir = faultCatalog(registry.host);
  });
  after(async () => {
    registry.stop();
    cleanup(dir);
    await removeImages(engine, made);
  });

  it('registry stopped before the manifest step: no manifest list exists and the error says why', async () => {
    const args = ['-C', dir, '--git-tag', id, '--set', `RUN_ID=${id}`];
    // a runner per architecture pushes its per-arch tag only
    for (const arch of ['amd64', 'arm64']) {
      const pushed = runCli([...args, 'build', 'f/good', '--push', '--arch-only', '--platform', `linux/${arch}`], {
        env: {},
        timeoutMs: 900_000,
      });
      assert.equal(pushed.code, 0, pushed.stderr);
      made.push(`${registry.host}/idekube-it/faults:f-good-${id}-${arch}`);
      assert.ok(await getManifest(registry.host, 'idekube-it/faults', `f-good-${id}-${arch}`), `${arch} tag pushed`);
    }
    assert.equal(await getManifest(registry.host, 'idekube-it/faults', `f-good-${id}`), undefined, 'no list yet');
    // then the registry goes away before the merge step
    registry.stop();
    const r = runCli([...args, 'manifest', 'f/good', '--platform', 'linux/amd64,linux/arm64'], { env: {}, timeoutMs: 900_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`registry ${registry.host.replace(/\./g, '\\.')} unreachable`));
    assert.match(r.stderr, /manifest list\(s\) not written/);
    registry.start();
    assert.equal(await getManifest(registry.host, 'idekube-it/faults', `f-good-${id}`), undefined, 'no list was written');
    // and once it is back, the same command writes the complete list
    const again = runCli([...args, 'manifest', 'f/good'], { env: {}, timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    const list = await getManifest(registry.host, 'idekube-it/faults', `f-good-${id}`);
    assert.deepEqual(list!.json.manifests.map((m: any) => m.platform.architecture).sort(), ['amd64', 'arm64']);
  });

  it('registry down during publish: the build succeeds, the push fails, no list is written, exit 1', async () => {
    registry.stop();
    try {
      const r = runCli(['-C', dir, '--git-tag', `${id}-down`, '--set', `RUN_ID=${id}`, 'publish', 'f/amd'], {
        env: {},
        timeoutMs: 900_000,
      });
      made.push(`${registry.host}/idekube-it/faults:f-amd-${id}-down-amd64`);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /push of .*f-amd-.*-down-amd64 failed/);
      assert.match(r.stderr, /failed\s+.*f-amd-.*-down/);
    } finally {
      registry.start();
    }
    assert.equal(await getManifest(registry.host, 'idekube-it/faults', `f-amd-${id}-down`), undefined);
  });

  it('daemon unreachable: exit 1 with one clear message, nothing built', () => {
    const r = runCli(['-C', dir, '--git-tag', id, 'build', 'f/good', '--platform', 'linux/amd64'], {
      env: { DOCKER_HOST: 'unix:///tmp/idekube-no-such-daemon.sock' },
    });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim().split('\n')[0],
      'idekube: failed: Docker Engine not reachable at unix:///tmp/idekube-no-such-daemon.sock: connect ENOENT /tmp/idekube-no-such-daemon.sock',
    );
    assert.match(r.stderr, /fix: start dockerd/);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  });

  it('a failing parent: its child is skipped and reported, a sibling still builds, exit 1', () => {
    const r = runCli(
      [
        '-C',
        dir,
        '--git-tag',
        `${id}-fail`,
        '--set',
        `RUN_ID=${id}-fail`,
        '--json',
        'build',
        'f/good',
        'f/bad-child',
        '--platform',
        'linux/amd64',
      ],
      { env: {}, timeoutMs: 900_000 },
    );
    made.push(`${registry.host}/idekube-it/faults:f-good-${id}-fail-amd64`);
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout);
    const status = Object.fromEntries(result.targets.map((t: { id: string; status: string }) => [t.id, t.status]));
    assert.deepEqual(status, { 'f/bad@linux/amd64': 'failed', 'f/bad-child@linux/amd64': 'skipped', 'f/good@linux/amd64': 'built' });
    const child = result.targets.find((t: { id: string }) => t.id === 'f/bad-child@linux/amd64');
    assert.match(child.error, /its parent f\/bad@linux\/amd64 failed/);
    assert.match(r.stderr, /this layer fails on purpose/);
  });

  it('SIGINT during a build: exits promptly, nothing is pushed afterwards', async () => {
    const cli = startCli(
      [
        '-C',
        dir,
        '--git-tag',
        `${id}-int`,
        '--set',
        `RUN_ID=${id}`,
        'publish',
        'f/slow',
        '--platform',
        'linux/amd64',
        '--progress',
        'plain',
        '-v',
      ],
      {},
    );
    await cli.waitFor(/slow \w+/, 180_000);
    const seen = Date.now() + 20_000;
    while (!sleepers(id).length && Date.now() < seen) await new Promise((r) => setTimeout(r, 250));
    assert.ok(sleepers(id).length > 0, 'the slow RUN step is running');
    cli.child.kill('SIGINT');
    const exit = await cli.exit(30_000);
    assert.equal(exit.code, 130, cli.stderr());
    assert.match(cli.stderr(), /cancelling running builds/);
    assert.equal(await getManifest(registry.host, 'idekube-it/faults', `f-slow-${id}-int`), undefined, 'no list');
    assert.equal(await getManifest(registry.host, 'idekube-it/faults', `f-slow-${id}-int-amd64`), undefined, 'no per-arch tag');
    // the engine dropped the build: its RUN step (sleep 300) stops within a bounded time
    const deadline = Date.now() + 30_000;
    while (sleepers(id).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(sleepers(id), [], 'the build step was cancelled');
  });
});
