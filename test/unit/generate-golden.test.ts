/**
 * Golden files pin what `idekube generate` writes for the whole production catalog, for both profiles.
 * A change in a layer shows up as a readable diff of test/golden/. Regenerate with: UPDATE_GOLDEN=1 npm run test:unit
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadProject } from '../../src/config/project.js';
import { generateFlavor, type GeneratedFlavor } from '../../src/generate/flavor.js';
import { REPO_ROOT } from '../helpers/project.js';

const GOLDEN = join(REPO_ROOT, 'test/golden');
const update = process.env.UPDATE_GOLDEN === '1';

/** The files of a generated flavor that a reviewer wants to read in a diff. */
export function goldenFiles(g: GeneratedFlavor): Record<string, string> {
  const text = (p: string) => g.files.find((f) => f.path === p)?.text;
  const out: Record<string, string> = { Dockerfile: g.dockerfile, 'context.txt': `${g.files.map((f) => `${f.path} ${f.mode.toString(8)}`).join('\n')}\n` };
  const nginx = text('runtime/etc/nginx/conf.d/idekube.conf');
  const supervisord = text('runtime/etc/supervisor/conf.d/idekube.conf');
  if (nginx) out['nginx.conf'] = nginx;
  if (supervisord) out['supervisord.conf'] = supervisord;
  const health = text('flavor/etc/idekube/health.json');
  if (health) out['health.json'] = health;
  return out;
}

for (const profile of ['default', 'ascend']) {
  describe(`golden files: production catalog, profile ${profile}`, () => {
    const project = loadProject({ dir: REPO_ROOT, ...(profile === 'default' ? {} : { profile }), sets: [], flags: { GIT_TAG: 'v0.0.0' }, env: {} });
    const ids = project.catalog.order;
    it('has all 16 catalog variants (v0.4\'s and v0.8\'s)', () => {
      assert.deepEqual([...ids].sort(), [
        'agent/base', 'coder/base', 'coder/conda', 'coder/lite', 'featured/base', 'featured/dind', 'featured/isaac',
        'featured/kathara', 'featured/ros2', 'featured/speit', 'featured/speit-ai', 'featured/speit-ascendai',
        'jupyter/base', 'jupyter/speit', 'jupyter/speit-ai', 'jupyter/speit-ascendai',
      ]);
    });
    const root = join(GOLDEN, profile);
    // stale flavor folders go; other goldens in the folder (bake.json…) stay
    if (update && existsSync(root)) for (const d of readdirSync(root)) if (!d.includes('.')) rmSync(join(root, d), { recursive: true, force: true });
    for (const id of ids) {
      it(`${id} matches test/golden/${profile}/${id.replace('/', '-')}`, () => {
        const files = goldenFiles(generateFlavor(project, id));
        const dir = join(root, id.replace('/', '-'));
        if (update) {
          mkdirSync(dir, { recursive: true });
          for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
          return;
        }
        assert.ok(existsSync(dir), `missing golden folder ${dir}: run UPDATE_GOLDEN=1 npm run test:unit`);
        assert.deepEqual(readdirSync(dir).sort(), Object.keys(files).sort(), 'golden file set');
        for (const [name, text] of Object.entries(files)) assert.equal(text, readFileSync(join(dir, name), 'utf8'), `${id}: ${name} differs from the golden file`);
      });
    }
  });
}
