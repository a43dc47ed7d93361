/** The runtime init's shell unit tests (test/unit/runtime/*.test.sh, TAP), run as part of the suite. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/project.js';

const dir = join(REPO_ROOT, 'test/unit/runtime');

describe('runtime init shell tests', () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.test.sh'))
    .sort()) {
    it(file, () => {
      const r = spawnSync('bash', [join(dir, file)], { encoding: 'utf8', timeout: 120_000, cwd: REPO_ROOT });
      const lines = r.stdout.split('\n');
      const passed = lines.filter((l) => /^ok \d+/.test(l));
      const failed = lines.filter((l) => /^not ok \d+/.test(l));
      assert.deepEqual(failed, [], r.stdout + r.stderr);
      assert.ok(!/# SKIP/i.test(r.stdout), `no check may be skipped:\n${r.stdout}`);
      assert.ok(passed.length > 0, `ran no check:\n${r.stdout}${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
    });
  }
});
