/**
 * `idekube publish --all` on the fixture catalog with the real engine and registry: every manifest list is read
 * back over HTTP, each child runs on each of its platforms (right architecture, parent's files present), and a
 * second run with nothing changed is served from cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';
import { REPO_ROOT, runCli } from '../helpers/project.js';
import { getManifest, listPlatforms } from '../helpers/registry.js';

const env = testEnv();
const tag = `it-${runId()}`;
const fixture = `${REPO_ROOT}/test/fixtures/catalog`;
const repo = 'idekube-test/fixture';
const expected: Record<string, string[]> = {
  'web/base': ['linux/amd64', 'linux/arm64'],
  'web/extra': ['linux/amd64', 'linux/arm64'],
  'web/jupyter': ['linux/amd64'],
  'desk/base': ['linux/amd64'],
};
const ref = (flavor: string, arch?: string) => `${env.registry}/${repo}:${flavor.replace('/', '-')}-${tag}${arch ? `-${arch}` : ''}`;

describe('publish the fixture catalog for amd64 and arm64', { timeout: 1_800_000 }, () => {
  let engine: Engine;
  let first: ReturnType<typeof runCli>;
  before(async () => {
    engine = await connectEngine();
    first = runCli(['-C', fixture, '--git-tag', tag, '--json', 'publish', '--all', '--platform', 'linux/amd64,linux/arm64'], { env: { REGISTRY: env.registry }, timeoutMs: 1_500_000 });
  });
  after(async () => {
    await removeImages(engine, Object.entries(expected).flatMap(([f, ps]) => ps.map((p) => ref(f, p.split('/')[1]))));
  });

  it('exits 0 and reports every target built or cached and every image published', () => {
    assert.equal(first.code, 0, first.stderr.slice(-3000));
    const result = JSON.parse(first.stdout);
    assert.equal(result.targets.length, 6);
    assert.ok(result.targets.every((t: { status: string }) => t.status === 'built' || t.status === 'cached'));
    assert.deepEqual(result.images.map((i: { flavor: string; status: string }) => `${i.flavor}:${i.status}`).sort(), Object.keys(expected).sort().map((f) => `${f}:published`));
  });

  it('every manifest list in the registry has exactly the declared platforms', async () => {
    for (const [flavor, platforms] of Object.entries(expected)) {
      const list = await getManifest(env.registry, repo, `${flavor.replace('/', '-')}-${tag}`);
      assert.ok(list, `${flavor}: list exists`);
      assert.equal(list.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
      assert.deepEqual(listPlatforms(list), platforms, flavor);
    }
  });

  for (const [child, platforms] of [['web/extra', ['amd64', 'arm64']], ['web/jupyter', ['amd64']]] as const) {
    for (const arch of platforms) {
      it(`${child} on ${arch}: the right architecture, with its parent's files`, async () => {
        const r = await runOnce(engine, ref(child, arch), ['sh', '-c', 'uname -m; cat /etc/idekube/flavor.json; test -x /startup.sh && test -f /etc/nginx/conf.d/idekube.conf && id -u idekube && echo parent-ok']);
        assert.equal(r.code, 0, r.output);
        const lines = r.output.trim().split('\n');
        assert.equal(lines[0], arch === 'amd64' ? 'x86_64' : 'aarch64');
        assert.match(r.output, /"lineage": \[\s*"web\/base",\s*"[^"]+"/);
        assert.match(r.output, /^1000$/m);
        assert.match(r.output, /parent-ok/);
        if (child === 'web/extra') assert.equal((await runOnce(engine, ref(child, arch), ['cat', '/etc/idekube-fixture/child'])).output.trim(), 'child of web/base');
      });
    }
  }

  it('a second run with nothing changed rebuilds nothing', () => {
    const second = runCli(['-C', fixture, '--git-tag', tag, '--json', 'publish', '--all', '--platform', 'linux/amd64,linux/arm64'], { env: { REGISTRY: env.registry }, timeoutMs: 1_500_000 });
    assert.equal(second.code, 0, second.stderr.slice(-3000));
    const result = JSON.parse(second.stdout);
    for (const t of result.targets) {
      assert.equal(t.status, 'cached', `${t.id} was rebuilt: ${JSON.stringify(t.ran)}`);
      assert.equal(t.executed, 0, `${t.id}: no step executed`);
    }
    assert.ok(result.images.every((i: { status: string }) => i.status === 'published'));
  });
});
