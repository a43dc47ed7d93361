/**
 * `--cache registry` on a fresh runner, for both drivers: a publish fills the registry cache, then the engine is
 * emptied (images removed, build cache pruned) and the same flavor built again: every step must come from the
 * registry. docker driver: the image pushed under the cache tag carries its cache inline (BUILDKIT_INLINE_CACHE) and
 * the next build names it in `cachefrom`. buildx: `cache-to type=registry,mode=max`, then `cache-from`.
 * (Across two engines the base image would not match: bookworm's classic store keys a local base by its image id,
 * a registry-resolving engine by its manifest digest.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { runId, testEnv } from '../helpers/env.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';
import { getManifest } from '../helpers/registry.js';

const env = testEnv();

function project(id: string): string {
  return makeProject({
    '.dockerargs': `REGISTRY=${env.registry}\nAUTHOR=idekube-it\nNAME=cache-${id}\nBASE_IMAGE=${env.baseImage}\n`,
    'flavors/layers/slow.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
    'artifacts/layers/slow/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\necho "$RUN_ID" > /stamp\nsleep 2\n',
    'flavors/c/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [slow]\n',
  });
}

interface Target {
  id: string;
  status: string;
  executed: number;
}

function targets(stdout: string): Target[] {
  return (JSON.parse(stdout) as { targets: Target[] }).targets;
}

/**
 * A fresh runner: the current engine with this project's images removed and its whole build cache pruned (it is
 * the test environment's own daemon, and the tests that share its cache ran before this file).
 */
async function emptyEngine(engine: Engine, repo: string): Promise<void> {
  for (const img of await engine.listImages()) {
    if ((img.RepoTags ?? []).some((t) => t.startsWith(`${repo}:`))) await engine.getImage(img.Id).remove({ force: true });
  }
  await (engine as unknown as { pruneBuilder: (o: object) => Promise<unknown> }).pruneBuilder({ all: true });
}

describe('--cache registry on a fresh runner (the current engine, emptied between publish and build)', { timeout: 900_000 }, () => {
  const dirs: string[] = [];
  let engine: Engine;
  before(async () => {
    engine = await connectEngine(env.current.DOCKER_HOST);
  });
  after(() => dirs.forEach(cleanup));

  for (const driver of ['docker', 'buildx'] as const) {
    it(`${driver} driver: after a publish with the cache, a build on the emptied engine takes every step from the registry`, async () => {
      const id = runId();
      const dir = project(id);
      dirs.push(dir);
      const args = ['-C', dir, '--git-tag', id, '--set', `RUN_ID=${id}`, '--json'];
      const run = (cmd: string[]) =>
        runCli([...args, ...cmd, 'c/base', '--driver', driver, '--platform', 'linux/amd64,linux/arm64'], {
          env: { ...env.current },
          timeoutMs: 600_000,
        });
      const first = run(['publish', '--cache', 'registry']);
      assert.equal(first.code, 0, first.stderr.slice(-3000));
      for (const t of targets(first.stdout)) assert.deepEqual([t.id, t.status], [t.id, 'built']);
      // the docker driver's cache is the image itself (inline), under a tag per arch; bake's is a cache manifest
      const cacheTags = driver === 'docker' ? ['buildcache-c-base-amd64', 'buildcache-c-base-arm64'] : ['buildcache-c-base'];
      for (const tag of cacheTags) assert.ok(await getManifest(env.registry, `idekube-it/cache-${id}`, tag), `${tag} pushed`);
      await emptyEngine(engine, `${env.registry}/idekube-it/cache-${id}`);
      const fresh = run(['build', '--cache', 'registry']);
      assert.equal(fresh.code, 0, fresh.stderr.slice(-3000));
      for (const t of targets(fresh.stdout)) assert.deepEqual([t.id, t.status, t.executed], [t.id, 'cached', 0]);
    });
  }
});
