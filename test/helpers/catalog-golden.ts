/**
 * Golden folders that follow the production catalog: one folder per flavor and profile under test/golden/<profile>/,
 * found by the project's own catalog loader, so that a flavor added as YAML gets its golden without a TypeScript
 * edit. With UPDATE_GOLDEN=1 each test rewrites only its own folder: a run filtered with --test-name-pattern leaves
 * the goldens of the flavors it skipped alone.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject, type Project } from '../../src/config/project.js';
import { REPO_ROOT } from './project.js';

export const GOLDEN_ROOT = join(REPO_ROOT, 'test/golden');
export const updatingGoldens = process.env.UPDATE_GOLDEN === '1';

/** The exact command that rewrites the goldens of `owner` (a test file under test/unit/); only those of the tests matching `testNamePattern` when given. */
export function updateGoldenCommand(owner: string, testNamePattern?: string): string {
  const filter = testNamePattern ? ` --test-name-pattern='${testNamePattern}'` : '';
  return `npx tsc -p tsconfig.json && UPDATE_GOLDEN=1 node --test${filter} dist/test/unit/${owner}.test.js`;
}

/** A test-name pattern (a regular expression) that selects the tests of one flavor: their names start with its id and a space. */
export function flavorTestName(id: string): string {
  return `^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `;
}

/** The production catalog's profiles: `default` (.dockerargs alone) and one per `.dockerargs.<name>` file. */
export function catalogProfiles(root = REPO_ROOT): string[] {
  const named = readdirSync(root)
    .flatMap((f) => /^\.dockerargs\.([A-Za-z0-9_-]+)$/.exec(f)?.[1] ?? [])
    .sort();
  return ['default', ...named];
}

/** The production project under `profile`, with a fixed git tag so that goldens do not follow the checkout. */
export function loadCatalog(profile: string, gitTag: string, root = REPO_ROOT): Project {
  return loadProject({ dir: root, ...(profile === 'default' ? {} : { profile }), sets: [], flags: { GIT_TAG: gitTag }, env: {} });
}

/** The folder name of a flavor's golden: `coder/base` → `coder-base`. */
export function goldenFolderName(id: string): string {
  return id.replace('/', '-');
}

/** Flavor golden folders of a profile (files such as bake.json beside them are other tests' goldens). */
function flavorFolders(profile: string): string[] {
  const dir = join(GOLDEN_ROOT, profile);
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
}

/** Golden folders of `profile` that no flavor of `ids` owns. */
export function orphanGoldenFolders(profile: string, ids: readonly string[]): string[] {
  const owned = new Set(ids.map(goldenFolderName));
  return flavorFolders(profile).filter((d) => !owned.has(d));
}

/** Deletes the orphaned golden folders of `profile` (an UPDATE_GOLDEN=1 run of the test that found them). */
export function deleteGoldenFolders(profile: string, folders: readonly string[]): void {
  for (const d of folders) rmSync(join(GOLDEN_ROOT, profile, d), { recursive: true, force: true });
}

/**
 * Compares a flavor's files with its golden folder `test/golden/<profile>/<folder>`; with UPDATE_GOLDEN=1 replaces
 * that folder (and nothing else) with them. `fix` is the command a missing or stale folder asks for.
 */
export function matchGoldenFolder(profile: string, id: string, files: Record<string, string>, fix: string): void {
  const rel = `test/golden/${profile}/${goldenFolderName(id)}`;
  const dir = join(REPO_ROOT, rel);
  if (updatingGoldens) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return;
  }
  assert.ok(existsSync(dir), `${id} has no golden folder ${rel}: run ${fix}`);
  assert.deepEqual(readdirSync(dir).sort(), Object.keys(files).sort(), `${rel}: golden file set (run ${fix} after reviewing the change)`);
  for (const [name, text] of Object.entries(files))
    assert.equal(text, readFileSync(join(dir, name), 'utf8'), `${id}: ${name} differs from ${rel}/${name}`);
}
