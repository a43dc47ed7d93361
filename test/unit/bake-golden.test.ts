/**
 * The bake file and the argv idekube would run for the whole production catalog, both profiles, pinned (a real
 * buildx runs them in test/integration/buildx.test.ts on the fixture catalog). Regenerate with UPDATE_GOLDEN=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadProject } from '../../src/config/project.js';
import { bakeArgv, bakeFile } from '../../src/drivers/buildx.js';
import { makePlan } from '../../src/plan/make-plan.js';
import { REPO_ROOT } from '../helpers/project.js';

const update = process.env.UPDATE_GOLDEN === '1';
const facts = { revision: '0123456789abcdef0123456789abcdef01234567', created: '2026-01-01T00:00:00Z', source: 'https://github.com/example/idekube' };

function golden(path: string, text: string): void {
  const file = join(REPO_ROOT, 'test/golden', path);
  if (update) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `missing ${file}: run UPDATE_GOLDEN=1 npm run test:unit`);
  assert.equal(text, readFileSync(file, 'utf8'), `${path} differs from the golden file`);
}

for (const profile of ['default', 'ascend']) {
  describe(`buildx bake for the production catalog, profile ${profile}`, () => {
    const project = loadProject({ dir: REPO_ROOT, ...(profile === 'default' ? {} : { profile }), sets: [], flags: { GIT_TAG: 'v0.4.2' }, env: {} });
    const plan = makePlan(project, { flavors: project.catalog.order, driver: 'buildx', push: true, cache: 'registry', aliases: ['latest', 'minor'], contextRoot: join(REPO_ROOT, '.idekube/build', profile), facts });
    it('bake file', () => golden(`${profile}/bake.json`, `${JSON.stringify(bakeFile(plan, { attest: true }), null, 2)}\n`));
    it('argv', () => golden(`${profile}/bake-argv.txt`, `${['docker', ...bakeArgv(plan, { bakeFile: '.idekube/bake.json', metadataFile: '.idekube/bake-metadata.json', builder: 'idekube', progress: 'plain' })].join('\n')}\n`));
    it('children take their parent from the bake graph, not from a registry', () => {
      const bake = bakeFile(plan, {});
      const dind = bake.target['featured-dind']!;
      // the familiar name: the Dockerfile frontend looks a FROM up by it (docker.io/… would never match)
      assert.deepEqual(dind.contexts, { [`davidliyutong/idekube-container:featured-base-v0.4.2${profile === 'ascend' ? '-ascend' : ''}`]: 'target:featured-base' });
      assert.ok(!('IDEKUBE_PARENT' in (dind.args as object)), 'the parent arg keeps its default, which the context replaces');
      assert.deepEqual(bake.target['featured-isaac']!.platforms, ['linux/amd64']);
    });
  });
}
