/**
 * `idekube publish --all` on the fixture catalog with the docker driver, the real registry and both engines
 * (bookworm's dockerd 20.10, and dockerd 28 with the containerd image store, where an Engine API difference would
 * show): every manifest list is read back over HTTP, each child runs on each of its platforms (right architecture,
 * parent's files present), and a second run with nothing changed is served from cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';
import { runCli } from '../helpers/project.js';
import { FIXTURE, FIXTURE_PLATFORMS, FIXTURE_REPO } from '../helpers/fixture.js';
import { getManifest, listPlatforms } from '../helpers/registry.js';

const env = testEnv();
const fixture = FIXTURE;
const repo = FIXTURE_REPO;
const expected = FIXTURE_PLATFORMS;
const engines = [
  {
    name: "bookworm's dockerd 20.10",
    vars: {} as Record<string, string>,
    listType: /^application\/vnd\.docker\.distribution\.manifest\.list\.v2\+json$/,
  },
  // an OCI index where the per-arch images carry attestations (the containerd image store may add them)
  {
    name: 'dockerd 28 with the containerd image store',
    vars: env.current as Record<string, string>,
    listType: /^application\/vnd\.(docker\.distribution\.manifest\.list\.v2|oci\.image\.index\.v1)\+json$/,
  },
];

for (const { name, vars, listType } of engines) {
  const tag = `it-${runId()}`;
  const ref = (flavor: string, arch?: string) => `${env.registry}/${repo}:${flavor.replace('/', '-')}-${tag}${arch ? `-${arch}` : ''}`;

  describe(`publish the fixture catalog for amd64 and arm64 (docker driver, ${name})`, { timeout: 1_800_000 }, () => {
    let engine: Engine;
    let first: ReturnType<typeof runCli>;
    before(async () => {
      engine = await connectEngine(vars.DOCKER_HOST);
      first = runCli(
        ['-C', fixture, '--git-tag', tag, '--json', 'publish', '--all', '--driver', 'docker', '--platform', 'linux/amd64,linux/arm64'],
        { env: { REGISTRY: env.registry, ...vars }, timeoutMs: 1_500_000 },
      );
    });
    after(async () => {
      await removeImages(
        engine,
        Object.entries(expected).flatMap(([f, ps]) => ps.map((p) => ref(f, p.split('/')[1]))),
      );
    });

    it('exits 0 and reports every target built or cached and every image published', () => {
      assert.equal(first.code, 0, first.stderr.slice(-3000));
      const result = JSON.parse(first.stdout);
      assert.equal(result.targets.length, 6);
      assert.ok(result.targets.every((t: { status: string }) => t.status === 'built' || t.status === 'cached'));
      assert.deepEqual(
        result.images.map((i: { flavor: string; status: string }) => `${i.flavor}:${i.status}`).sort(),
        Object.keys(expected)
          .sort()
          .map((f) => `${f}:published`),
      );
    });

    it('every manifest list in the registry has exactly the declared platforms', async () => {
      for (const [flavor, platforms] of Object.entries(expected)) {
        const list = await getManifest(env.registry, repo, `${flavor.replace('/', '-')}-${tag}`);
        assert.ok(list, `${flavor}: list exists`);
        assert.match(list.mediaType, listType);
        assert.deepEqual(listPlatforms(list), platforms, flavor);
      }
    });

    for (const [child, platforms] of [
      ['web/extra', ['amd64', 'arm64']],
      ['web/jupyter', ['amd64']],
    ] as const) {
      for (const arch of platforms) {
        it(`${child} on ${arch}: the right architecture, with its parent's files`, async () => {
          const r = await runOnce(engine, ref(child, arch), [
            'sh',
            '-c',
            'uname -m; cat /etc/idekube/flavor.json; test -x /startup.sh && test -f /etc/nginx/conf.d/idekube.conf && id -u idekube && echo parent-ok',
          ]);
          assert.equal(r.code, 0, r.output);
          const lines = r.output.trim().split('\n');
          assert.equal(lines[0], arch === 'amd64' ? 'x86_64' : 'aarch64');
          assert.match(r.output, /"lineage": \[\s*"web\/base",\s*"[^"]+"/);
          assert.match(r.output, /^1000$/m);
          assert.match(r.output, /parent-ok/);
          if (child === 'web/extra')
            assert.equal(
              (await runOnce(engine, ref(child, arch), ['cat', '/etc/idekube-fixture/child'])).output.trim(),
              'child of web/base',
            );
        });
      }
    }

    if (vars.DOCKER_HOST) {
      // this engine gives containers IPv6 (::1), bookworm's does not: the image's nginx must answer on [::]:80 here
      it('idekube test web/base on this engine: every check passes, ipv6 included', () => {
        const r = runCli(['-C', fixture, '--git-tag', tag, '--json', 'test', 'web/base', '--platform', 'linux/amd64'], {
          env: { REGISTRY: env.registry, ...vars },
          timeoutMs: 900_000,
        });
        const report = JSON.parse(r.stdout);
        const checks: Array<{ name: string; status: string; message: string }> = report.images[0].checks;
        const failed = checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.message}`);
        assert.deepEqual(failed, [], r.stderr.slice(-2000));
        assert.equal(r.code, 0);
        const ipv6 = checks.find((c) => c.name === 'ipv6');
        assert.equal(ipv6?.status, 'pass', JSON.stringify(ipv6));
      });
    }

    it('a second run with nothing changed rebuilds nothing', () => {
      const second = runCli(
        ['-C', fixture, '--git-tag', tag, '--json', 'publish', '--all', '--driver', 'docker', '--platform', 'linux/amd64,linux/arm64'],
        { env: { REGISTRY: env.registry, ...vars }, timeoutMs: 1_500_000 },
      );
      assert.equal(second.code, 0, second.stderr.slice(-3000));
      const result = JSON.parse(second.stdout);
      for (const t of result.targets) {
        assert.equal(t.status, 'cached', `${t.id} was rebuilt: ${JSON.stringify(t.ran)}`);
        assert.equal(t.executed, 0, `${t.id}: no step executed`);
      }
      assert.ok(result.images.every((i: { status: string }) => i.status === 'published'));
    });
  });
}
