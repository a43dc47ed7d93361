/** Build flags reach the driver: checked through the real CLI's dry run (no engine). */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/main.js';
import { parseBuildFlags } from '../../src/cli/build-options.js';
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
  it('the cache mode reaches the plan, whichever of --cache and --no-cache comes last', () => {
    for (const flags of [
      ['--cache', 'registry'],
      ['--cache', 'registry', '--no-cache'],
      ['--no-cache', '--cache', 'registry'],
    ]) {
      const dir = makeProject();
      dirs.push(dir);
      const r = runCli(['-C', dir, '--git-tag', 'v1.0.0', '--json', 'build', 'alpha/base', '--driver', 'buildx', '--dry-run', ...flags]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { plan: { cache: string }; argv: string[] };
      assert.equal(out.plan.cache, 'registry', flags.join(' '));
      assert.equal(out.argv.includes('--no-cache'), flags.includes('--no-cache'), flags.join(' '));
    }
  });
});

describe('commander hands the flags over as the parser expects', () => {
  /** The options commander gives `build`'s action for these arguments. */
  const optionsOf = async (...args: string[]): Promise<Record<string, unknown>> => {
    let got: Record<string, unknown> | undefined;
    const program = buildProgram(async () => {});
    program.commands
      .find((c) => c.name() === 'build')!
      .action((_flavors: string[], opts: Record<string, unknown>) => {
        got = opts;
      });
    await program.parseAsync(['build', ...args], { from: 'user' });
    return got!;
  };
  it('--cache <mode> and --no-cache are two flags, neither hides the other', async () => {
    for (const args of [
      ['--cache', 'registry', '--no-cache'],
      ['--no-cache', '--cache', 'registry'],
    ]) {
      const opts = await optionsOf(...args);
      assert.equal(opts.cache, 'registry', args.join(' '));
      assert.equal(opts.noCache, true, args.join(' '));
      const flags = parseBuildFlags(opts, {});
      assert.equal(flags.cache, 'registry');
      assert.equal(flags.noCache, true);
    }
    const none = await optionsOf();
    assert.equal(none.cache, undefined);
    assert.equal(none.noCache, undefined);
    assert.deepEqual([parseBuildFlags(none, {}).cache, parseBuildFlags(none, {}).noCache], ['none', false]);
    assert.equal(parseBuildFlags(await optionsOf('--no-cache'), {}).cache, 'none');
  });
  it('--test and --extra-ca-certs arrive typed', async () => {
    const opts = await optionsOf('--test', '--extra-ca-certs', 'ca.pem');
    assert.equal(opts.extraCaCerts, 'ca.pem');
    const flags = parseBuildFlags(opts, {});
    assert.equal(flags.test, true);
    assert.equal(flags.driver, 'docker', '--test takes the docker driver');
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
