/**
 * Single golden files under test/golden/: compared, or written with UPDATE_GOLDEN=1. Each test writes only its own
 * file, so a run filtered with --test-name-pattern leaves the others alone. `owner` names the test file (test/unit/<owner>.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateGoldenCommand } from './catalog-golden.js';
import { REPO_ROOT } from './project.js';

export function golden(path: string, text: string, owner: string): void {
  const file = join(REPO_ROOT, 'test/golden', path);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `missing ${file}: run ${updateGoldenCommand(owner)}`);
  assert.equal(
    text,
    readFileSync(file, 'utf8'),
    `${path} differs from the golden file (run ${updateGoldenCommand(owner)} after reviewing the change)`,
  );
}
