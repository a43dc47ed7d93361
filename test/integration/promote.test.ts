/**
 * `idekube promote` against the local registry: two tiny amd64 images (the test base image plus a one-line layer)
 * are published, then their lists copied to the stable aliases by digest. v0.8 with staging: a per-arch tag pushed
 * again with other content is refused (exit 1, no alias written, not even the good image's), a consistent publish
 * promotes with the digests unchanged; v0.4: the `latest` alias of a release.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { pushTag } from '../../src/engine/push.js';
import { RegistryClient } from '../../src/registry/client.js';
import { removeImages, runId, testEnv } from '../helpers/env.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const env = testEnv();
const name = `promote-${runId()}`;
const author = 'idekube-it';
const version = 'v1.2.3';
const layer = (word: string) => `#!/usr/bin/env bash\nset -euo pipefail\necho ${word} > /promote-mark\n`;
const dir = makeProject({
  '.dockerargs': `BASE_IMAGE=${env.baseImage}\n`,
  'flavors/layers/mark.yaml': 'run: install.sh\n',
  'artifacts/layers/mark/install.sh': layer('base'),
  'flavors/layers/app.yaml': 'run: install.sh\n',
  'artifacts/layers/app/install.sh': layer('app'),
  'flavors/t/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nplatforms: [linux/amd64]\nlayers: [mark]\n',
  'flavors/t/app/flavor.yaml': 'from:\n  parent: t/base\nlayers: [app]\n',
  // in both v0.4 lineups (base, ascend): one plan publishes it twice, with each profile's postfix
  'flavors/featured/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nplatforms: [linux/amd64]\nlayers: [mark]\n',
  '.dockerargs.ascend': 'TAG_POSTFIX=-ascend\n',
});
const cli = (args: string[]) =>
  runCli(['-C', dir, '--git-tag', version, ...args], { env: { REGISTRY: env.registry, AUTHOR: author, NAME: name }, timeoutMs: 900_000 });
const client = new RegistryClient(env.registry);
const digest = async (repo: string, tag: string) => (await client.getManifest(`${author}/${repo}`, tag))?.digest;
const ours = ['t/base', 't/app'];
const publish = (scheme: string[], flavors = ours) => {
  const r = cli([...scheme, 'publish', ...flavors, '--driver', 'docker', '--platform', 'linux/amd64']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
};

// v0.8: a repository per image
const baseRepo = `${name}-t-base`;
const appRepo = `${name}-t`;
const staged = { base: `${version}-staging`, app: `app-${version}-staging` };
const v08 = ['--scheme', 'v0.8', '--staging'];

describe('idekube promote (local registry, docker driver, amd64)', { timeout: 1_200_000 }, () => {
  let engine: Engine;
  before(async () => {
    engine = await connectEngine();
    publish(v08);
  });
  after(async () => {
    await removeImages(engine, [
      `${env.registry}/${author}/${baseRepo}:${staged.base}-amd64`,
      `${env.registry}/${author}/${appRepo}:${staged.app}-amd64`,
      `${env.registry}/${author}/${name}:t-base-${version}-amd64`,
      `${env.registry}/${author}/${name}:t-app-${version}-amd64`,
      `${env.registry}/${author}/${name}:featured-base-${version}-amd64`,
      `${env.registry}/${author}/${name}:featured-base-${version}-ascend-amd64`,
    ]);
    cleanup(dir);
  });

  it('--dry-run checks and writes nothing', async () => {
    const r = cli([...v08, 'promote', ...ours, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `would promote ${env.registry}/${author}/${baseRepo}:${staged.base}@sha256:[0-9a-f]{64} → ${env.registry}/${author}/${baseRepo}:stable`,
      ),
    );
    assert.equal(await digest(baseRepo, 'stable'), undefined);
  });

  it('a list whose platform differs from its per-arch tag is refused, and no alias is written', async () => {
    // what "published" means for app's amd64 changes: its per-arch tag now holds other content (base's image)
    const wrong = `${env.registry}/${author}/${appRepo}:${staged.app}-amd64`;
    await engine
      .getImage(`${env.registry}/${author}/${baseRepo}:${staged.base}-amd64`)
      .tag({ repo: `${env.registry}/${author}/${appRepo}`, tag: `${staged.app}-amd64` });
    const pushed = await pushTag(engine, wrong);
    const listBefore = await digest(appRepo, staged.app);
    const r = cli([...v08, 'promote', ...ours]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `${appRepo}:${staged.app} cannot be promoted: linux/amd64 is sha256:[0-9a-f]{64} in the list, but ${wrong.replace(/[.]/g, '\\.')} \\(what was published for it\\) is now ${pushed}`,
      ),
    );
    assert.match(r.stderr, /1 of 2 image\(s\) cannot be promoted: nothing was written/);
    assert.equal(await digest(baseRepo, 'stable'), undefined, "the good image's alias is not written either");
    assert.equal(await digest(appRepo, 'app-stable'), undefined);
    assert.equal(await digest(appRepo, staged.app), listBefore);
  });

  it("after a consistent publish, the stable aliases have the staged lists' digests, which do not change", async () => {
    publish(v08);
    const before = { base: await digest(baseRepo, staged.base), app: await digest(appRepo, staged.app) };
    const r = cli([...v08, 'promote', ...ours]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`✔ ${env.registry}/${author}/${appRepo}:${staged.app}@${before.app} → ${env.registry}/${author}/${appRepo}:app-stable`),
    );
    assert.equal(await digest(baseRepo, 'stable'), before.base);
    assert.equal(await digest(appRepo, 'app-stable'), before.app);
    assert.equal(await digest(baseRepo, staged.base), before.base);
    assert.equal(await digest(appRepo, staged.app), before.app);
  });

  it('v0.4: the latest alias of a release, by digest', async () => {
    publish([]);
    const list = await digest(name, `t-base-${version}`);
    assert.ok(list);
    const r = cli(['--json', 'promote', 't/base']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.promoted.map((p: { aliases: string[] }) => p.aliases),
      [[`${env.registry}/${author}/${name}:t-base-latest`]],
    );
    assert.equal(out.promoted[0].platforms[0].perArchDigest, out.promoted[0].platforms[0].digest);
    assert.equal(await digest(name, 't-base-latest'), list);
    assert.equal(await digest(name, 't-app-latest'), undefined, 'only what was named');
  });

  it('two lineups in one plan: published side by side by the docker driver, then promoted together', async () => {
    const r = cli(['--lineup', 'base,ascend', '--json', 'publish', 'featured/base', '--driver', 'docker', '--platform', 'linux/amd64']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const result = JSON.parse(r.stdout);
    assert.deepEqual(
      result.targets.map((t: { id: string }) => t.id),
      ['base:featured/base@linux/amd64', 'ascend:featured/base@linux/amd64'],
    );
    assert.deepEqual(
      result.images.map((i: { ref: string; status: string }) => `${i.ref} ${i.status}`),
      [
        `${env.registry}/${author}/${name}:featured-base-${version} published`,
        `${env.registry}/${author}/${name}:featured-base-${version}-ascend published`,
      ],
    );
    const p = cli(['--lineup', 'base,ascend', 'promote', 'featured/base']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(await digest(name, 'featured-base-latest'), await digest(name, `featured-base-${version}`));
    assert.equal(await digest(name, 'featured-base-latest-ascend'), await digest(name, `featured-base-${version}-ascend`));
  });
});
