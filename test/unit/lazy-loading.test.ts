/** `--help`, `list` and `tags` never load dockerode, listr2 or execa (they cost start-up time). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, REPO_ROOT } from '../helpers/project.js';

function loadedBy(args: string[]): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'idekube-trace-')), 'loads.txt');
  const r = spawnSync(process.execPath, ['--import', join(REPO_ROOT, 'test/helpers/trace-loads.mjs'), CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', IDEKUBE_TRACE_LOADS: file, GIT_TAG: 'v1.0.0' },
  });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

const heavy = /node_modules\/(dockerode|docker-modem|listr2|execa|ssh2|ws|playwright-core)\/|^cjs:(dockerode|ssh2|ws|playwright-core)$/;

describe('heavy modules load only where they are used', () => {
  for (const args of [
    ['--help'],
    ['list'],
    ['tags', '--all'],
    ['config', 'featured/base'],
    ['generate', 'coder/base', '-o', mkdtempSync(join(tmpdir(), 'idekube-lazy-gen-'))],
  ]) {
    it(`idekube ${args[0]} loads none of dockerode, listr2, execa, ssh2, ws, playwright`, () => {
      const loads = loadedBy(args);
      assert.ok(
        loads.some((l) => l.includes('/dist/src/cli/main.js')),
        'the trace works',
      );
      assert.deepEqual(
        loads.filter((l) => heavy.test(l)),
        [],
      );
    });
  }
  it('the trace does see them when a command uses them (doctor loads dockerode)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'idekube-trace-')), 'loads.txt');
    spawnSync(process.execPath, ['--import', join(REPO_ROOT, 'test/helpers/trace-loads.mjs'), CLI, 'doctor'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        IDEKUBE_TRACE_LOADS: file,
        DOCKER_HOST: 'unix:///tmp/idekube-no-daemon.sock',
      },
    });
    assert.ok(
      readFileSync(file, 'utf8')
        .split('\n')
        .some((l) => heavy.test(l)),
    );
  });
});
