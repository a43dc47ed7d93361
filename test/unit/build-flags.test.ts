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

describe('--network', () => {
  const bakeOf = (...flags: string[]) => {
    const dir = makeProject();
    dirs.push(dir);
    const r = runCli(['-C', dir, '--git-tag', 'v1.0.0', '--json', 'build', 'alpha/base', '--driver', 'buildx', '--dry-run', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { plan: { network: string }; bake: { target: Record<string, { network?: string }> }; argv: string[] };
  };
  it('host: the bake target asks for the host network and bake is allowed to grant it', () => {
    const out = bakeOf('--network', 'host');
    assert.equal(out.plan.network, 'host');
    assert.equal(out.bake.target['alpha-base']!.network, 'host');
    assert.deepEqual(out.argv.slice(out.argv.indexOf('--allow'), out.argv.indexOf('--allow') + 2), ['--allow', 'network.host']);
  });
  it('none needs no entitlement; default adds nothing to the bake file', () => {
    const none = bakeOf('--network', 'none');
    assert.equal(none.bake.target['alpha-base']!.network, 'none');
    assert.ok(!none.argv.includes('--allow'));
    const dflt = bakeOf();
    assert.equal(dflt.plan.network, 'default');
    assert.ok(!('network' in dflt.bake.target['alpha-base']!));
  });
  it('the docker driver plan says so', () => {
    const dir = makeProject();
    dirs.push(dir);
    const r = runCli(['-C', dir, '--git-tag', 'v1.0.0', 'build', 'alpha/base', '--driver', 'docker', '--dry-run', '--network', 'host']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^plan: 1 image\(s\), 2 build target\(s\), driver docker, GIT_TAG v1\.0\.0, network host$/m);
  });
  it('an unknown mode is bad input: exit 2, the allowed modes named', () => {
    const dir = makeProject();
    dirs.push(dir);
    const r = runCli(['-C', dir, 'build', 'alpha/base', '--driver', 'docker', '--network', 'bridge']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--network "bridge" is not allowed[\s\S]*default, host, none/);
  });
});
