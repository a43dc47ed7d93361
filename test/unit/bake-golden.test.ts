/**
 * The bake file and the argv idekube would run for the whole production catalog, every profile, pinned (a real
 * buildx runs them in test/integration/buildx.test.ts on the fixture catalog). Regenerate with UPDATE_GOLDEN=1 (the
 * command a failure prints); a filtered run rewrites only the goldens of the tests it ran.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bakeArgv, bakeFile } from '../../src/drivers/buildx.js';
import { makePlan } from '../../src/plan/make-plan.js';
import { catalogProfiles, loadCatalog } from '../helpers/catalog-golden.js';
import { golden } from '../helpers/golden.js';
import { REPO_ROOT } from '../helpers/project.js';

const facts = {
  revision: '0123456789abcdef0123456789abcdef01234567',
  created: '2026-01-01T00:00:00Z',
  source: 'https://github.com/example/idekube',
};

for (const profile of catalogProfiles()) {
  describe(`buildx bake for the production catalog, profile ${profile}`, () => {
    const project = loadCatalog(profile, 'v0.4.2');
    const plan = makePlan(project, {
      flavors: project.catalog.order,
      driver: 'buildx',
      push: true,
      cache: 'registry',
      aliases: ['latest', 'minor'],
      contextRoot: join(REPO_ROOT, '.idekube/build', profile),
      facts,
    });
    it('bake file', () => golden(`${profile}/bake.json`, `${JSON.stringify(bakeFile(plan, { attest: true }), null, 2)}\n`, 'bake-golden'));
    it('argv', () =>
      golden(
        `${profile}/bake-argv.txt`,
        `${['docker', ...bakeArgv(plan, { bakeFile: '.idekube/bake.json', metadataFile: '.idekube/bake-metadata.json', builder: 'idekube', progress: 'plain' })].join('\n')}\n`,
        'bake-golden',
      ));
    it('children take their parent from the bake graph, not from a registry', () => {
      const bake = bakeFile(plan, {});
      const dind = bake.target['featured-dind']!;
      // the familiar name: the Dockerfile frontend looks a FROM up by it (docker.io/… would never match)
      const parent = plan.images.find((i) => i.flavor === 'featured/base')!.ref;
      assert.match(parent, /^docker\.io\/davidliyutong\/idekube-container:featured-base-v0\.4\.2/);
      assert.deepEqual(dind.contexts, { [parent.slice('docker.io/'.length)]: 'target:featured-base' });
      assert.ok(!('IDEKUBE_PARENT' in (dind.args as object)), 'the parent arg keeps its default, which the context replaces');
      assert.deepEqual(bake.target['featured-isaac']!.platforms, ['linux/amd64']);
    });
  });
}
