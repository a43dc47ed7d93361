/**
 * Proves the test environment with the real engine: a BuildKit build (dockerode, version "2") FROM the local
 * Debian base for linux/amd64 and linux/arm64, each run to check its architecture, both pushed to the local
 * registry, joined into a manifest list, and the list read back over HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage } from '../../src/engine/build.js';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { pushTag } from '../../src/engine/push.js';
import { RegistryClient } from '../../src/registry/client.js';
import { publishList } from '../../src/registry/manifest-list.js';
import { MEDIA } from '../../src/registry/types.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';

const env = testEnv();
const id = runId();
const repo = `${env.registry}/idekube-it/env-probe`;
const platforms = [
  { platform: 'linux/amd64', arch: 'amd64', uname: 'x86_64' },
  { platform: 'linux/arm64', arch: 'arm64', uname: 'aarch64' },
];

describe('test environment: real engine, registry and arm64 emulation', { timeout: 600_000 }, () => {
  let engine: Engine;
  let ctx: string;
  before(async () => {
    engine = await connectEngine();
    ctx = mkdtempSync(join(tmpdir(), 'idekube-env-'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `ARG BASE=${env.baseImage}\nFROM \${BASE}\nRUN uname -m > /built-on && echo "${id}" > /probe-id\n`,
    );
  });
  after(async () => {
    rmSync(ctx, { recursive: true, force: true });
    await removeImages(
      engine,
      platforms.map((p) => `${repo}:${id}-${p.arch}`),
    );
  });

  for (const p of platforms) {
    it(`builds FROM the local base and runs on ${p.platform}`, async () => {
      const result = await buildImage(engine, { contextDir: ctx, platform: p.platform, tags: [`${repo}:${id}-${p.arch}`] });
      assert.match(result.imageId, /^sha256:[0-9a-f]{64}$/);
      assert.ok(
        result.executed.some((s) => s.name.includes('RUN uname -m')),
        'the RUN step executed',
      );
      const inspect = await engine.getImage(`${repo}:${id}-${p.arch}`).inspect();
      assert.equal(inspect.Architecture, p.arch);
      const run = await runOnce(engine, `${repo}:${id}-${p.arch}`, ['sh', '-c', 'uname -m; cat /built-on /probe-id']);
      assert.equal(run.code, 0);
      assert.deepEqual(run.output.trim().split('\n'), [p.uname, p.uname, id]);
    });
  }

  it('pushes both, joins them into a manifest list and reads it back over HTTP', async () => {
    for (const p of platforms) assert.match(await pushTag(engine, `${repo}:${id}-${p.arch}`), /^sha256:/);
    const client = new RegistryClient(env.registry);
    const list = await publishList(
      client,
      `${repo}:${id}`,
      platforms.map((p) => ({ platform: p.platform, ref: `${repo}:${id}-${p.arch}` })),
    );
    assert.equal(list.manifests.length, 2);
    // read back with a plain HTTP request, independent of the client that wrote it
    const res = await fetch(`http://${env.registry}/v2/idekube-it/env-probe/manifests/${id}`, { headers: { accept: MEDIA.dockerList } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), MEDIA.dockerList);
    const body = (await res.json()) as { manifests: Array<{ platform: { os: string; architecture: string } }> };
    assert.deepEqual(body.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort(), ['linux/amd64', 'linux/arm64']);
  });
});
