/** Golden files under test/golden/: compared, or written with UPDATE_GOLDEN=1 (run only the test file that owns them). */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './project.js';

export function golden(path: string, text: string, owner: string): void {
  const file = join(REPO_ROOT, 'test/golden', path);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `missing ${file}: run UPDATE_GOLDEN=1 node --test dist/test/unit/${owner}.test.js`);
  assert.equal(text, readFileSync(file, 'utf8'), `${path} differs from the golden file`);
}
