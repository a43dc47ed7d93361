/** Build flags reach the driver: checked through the real CLI's dry run (no engine). */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

function dryRun(...flags: string[]): string[] {
  const dir = makeProject();
  dirs.push(dir);
  const r = runCli(['-C', dir, '--git-tag', 'v1.0.0', 'build', 'alpha/base', '--driver', 'buildx', '--dry-run', ...flags]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').at(-1)!.split(' ');
}

describe('build flags', () => {
  it('--no-cache runs every step again (it is not read as "--cache false")', () => {
    assert.ok(dryRun('--no-cache').includes('--no-cache'));
    assert.ok(!dryRun().includes('--no-cache'));
  });
  it('--no-cache goes with a cache mode', () => {
    assert.ok(dryRun('--cache', 'registry', '--no-cache').includes('--no-cache'));
  });
});
