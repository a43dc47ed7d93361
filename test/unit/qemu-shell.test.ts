/**
 * The shell side of the QEMU support: every script passes shellcheck, and the VM-in-container launcher refuses
 * bad settings before it touches anything (no QEMU, no disk, no volume).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { onPath } from '../../src/qemu/exec.js';
import { REPO_ROOT } from '../helpers/project.js';

const QEMU = join(REPO_ROOT, 'artifacts/qemu');
const LAUNCHER = join(QEMU, 'container/idekube-vm.sh');

function scripts(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? scripts(p) : n.endsWith('.sh') ? [p] : [];
  });
}

describe('QEMU shell scripts', () => {
  const all = scripts(QEMU).sort();
  it('are executable', () => {
    assert.ok(all.length >= 4, all.join(' '));
    for (const f of all) assert.ok(statSync(f).mode & 0o100, `${f} is executable`);
  });
  for (const f of all) {
    it(`shellcheck ${f.slice(REPO_ROOT.length + 1)}`, { skip: onPath('shellcheck') ? false : 'shellcheck is not installed' }, () => {
      const r = spawnSync('shellcheck', ['-x', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }
});

describe('VM-in-container launcher: bad settings stop it before anything starts', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ IDEKUBE_VM_MEMORY: 'lots' }, /IDEKUBE_VM_MEMORY=lots: use a size such as 2G/],
    [{ IDEKUBE_VM_CPU: '0' }, /IDEKUBE_VM_CPU=0: use a number of CPUs/],
    [{ IDEKUBE_VM_DISK_SIZE: '20 G' }, /IDEKUBE_VM_DISK_SIZE=20 G: use a size such as 20G/],
    [{ IDEKUBE_SSH_PORT: '70000' }, /IDEKUBE_SSH_PORT=70000 is not a port number/],
    [{ IDEKUBE_MONITOR_PORT: 'x' }, /IDEKUBE_MONITOR_PORT=x is not a port number/],
    [{ IDEKUBE_VM_STOP_TIMEOUT: 'soon' }, /IDEKUBE_VM_STOP_TIMEOUT=soon: use seconds/],
  ];
  for (const [env, re] of cases) {
    it(
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      () => {
        const r = spawnSync('bash', [LAUNCHER], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env }, timeout: 10_000 });
        assert.equal(r.status, 1);
        assert.match(r.stderr, re);
      },
    );
  }
});
