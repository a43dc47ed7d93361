/**
 * Golden files pin what `idekube generate` writes for every flavor of the production catalog, under every profile:
 * the flavors come from the catalog loader, so a flavor added as YAML is covered (and asks for its golden) without
 * a TypeScript edit. A change in a layer shows up as a readable diff of test/golden/<profile>/<flavor>/.
 * Regenerate one flavor's goldens (all profiles) with the command its failure prints, or every one with
 * UPDATE_GOLDEN=1 npm run test:unit; each test rewrites only its own flavor's folder.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateFlavor, type GeneratedFlavor } from '../../src/generate/flavor.js';
import {
  catalogProfiles,
  deleteGoldenFolders,
  flavorTestName,
  goldenFolderName,
  loadCatalog,
  matchGoldenFolder,
  orphanGoldenFolders,
  updateGoldenCommand,
  updatingGoldens,
} from '../helpers/catalog-golden.js';

const OWNER = 'generate-golden';

/** The files of a generated flavor that a reviewer wants to read in a diff. */
export function goldenFiles(g: GeneratedFlavor): Record<string, string> {
  const text = (p: string) => g.files.find((f) => f.path === p)?.text;
  const out: Record<string, string> = {
    Dockerfile: g.dockerfile,
    'context.txt': `${g.files.map((f) => `${f.path} ${f.mode.toString(8)}`).join('\n')}\n`,
  };
  const nginx = text('runtime/etc/nginx/conf.d/idekube.conf');
  const supervisord = text('runtime/etc/supervisor/conf.d/idekube.conf');
  if (nginx) out['nginx.conf'] = nginx;
  if (supervisord) out['supervisord.conf'] = supervisord;
  const health = text('flavor/etc/idekube/health.json');
  if (health) out['health.json'] = health;
  return out;
}

const ORPHANS = 'no golden folder without a flavor of the catalog';

for (const profile of catalogProfiles()) {
  describe(`golden files: production catalog, profile ${profile}`, () => {
    const project = loadCatalog(profile, 'v0.0.0');
    const ids = project.catalog.order;
    it('the catalog has flavors (the goldens below follow it)', () => assert.ok(ids.length > 0));
    it(ORPHANS, () => {
      const orphans = orphanGoldenFolders(profile, ids);
      if (updatingGoldens) return deleteGoldenFolders(profile, orphans);
      assert.deepEqual(
        orphans,
        [],
        `test/golden/${profile}/{${orphans.join(',')}} belong to no flavor: delete them, or run ${updateGoldenCommand(OWNER, `^${ORPHANS}$`)}`,
      );
    });
    for (const id of ids) {
      it(`${id} matches test/golden/${profile}/${goldenFolderName(id)}`, () => {
        matchGoldenFolder(profile, id, goldenFiles(generateFlavor(project, id)), updateGoldenCommand(OWNER, flavorTestName(id)));
      });
    }
  });
}
