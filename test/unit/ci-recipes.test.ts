/** The shipped CI recipes are valid (no CI service is reachable from here, so they are checked offline). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/project.js';

const validator = join(REPO_ROOT, 'node_modules/.bin/action-validator');
const validate = (file: string) => spawnSync(validator, [file], { encoding: 'utf8', timeout: 60_000 });

describe('CI recipes', () => {
  for (const wf of ['publish.yml', 'test.yml']) {
    it(`.github/workflows/${wf} passes the GitHub Actions schema (action-validator)`, () => {
      const r = validate(join(REPO_ROOT, '.github/workflows', wf));
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }
  it('the validator does reject a broken workflow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-wf-'));
    writeFileSync(join(dir, 'bad.yml'), 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n');
    assert.notEqual(validate(join(dir, 'bad.yml')).status, 0);
  });
  it('publish workflow: per-arch jobs push per-arch tags, the merge job writes the lists', () => {
    const wf = parse(readFileSync(join(REPO_ROOT, '.github/workflows/publish.yml'), 'utf8'));
    const build = wf.jobs.build.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    assert.match(build, /idekube build --all --driver docker --platform \$\{\{ matrix\.platform \}\} --push --arch-only/);
    assert.deepEqual(wf.jobs.merge.needs, 'build');
    assert.match(wf.jobs.merge.steps.map((s: { run?: string }) => s.run ?? '').join('\n'), /idekube manifest --all/);
    assert.match(wf.jobs.plan.steps.map((s: { run?: string }) => s.run ?? '').join('\n'), /idekube plan --all --json/);
  });
  it('.gitlab-ci.yml: the same shape (build per platform, then merge)', () => {
    const gl = parse(readFileSync(join(REPO_ROOT, '.gitlab-ci.yml'), 'utf8'));
    assert.deepEqual(gl.stages, ['build', 'merge']);
    assert.deepEqual(gl.build.parallel.matrix.map((m: { PLATFORM: string }) => m.PLATFORM), ['linux/amd64', 'linux/arm64']);
    assert.match(gl.build.script.join('\n'), /--push --arch-only/);
    assert.deepEqual(gl.merge.needs, ['build']);
    assert.match(gl.merge.script.join('\n'), /idekube manifest --all/);
  });
});
