/**
 * The bake file against what a real buildx does with it (see test/integration/buildx.test.ts for the same on a real
 * engine): named-context keys in the form the Dockerfile frontend looks a FROM up by, per-arch targets for
 * --arch-only, template sigils kept literal, and the dry run printing the exact argv.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { familiarName } from '../../src/config/image-ref.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

interface DryRun {
  plan: { images: Array<{ ref: string }> };
  bake: { group: { default: { targets: string[] } }; target: Record<string, Record<string, unknown>> };
  argv: string[];
}

function dryRun(args: string[], dotArgs = ''): DryRun {
  const dir = makeProject(undefined, dotArgs ? { '.dockerargs': `BASE_IMAGE=debian:bookworm\nTOOL_VERSION=1.0\n${dotArgs}` } : {});
  dirs.push(dir);
  const r = runCli(['-C', dir, '--git-tag', 'v1.0.0', '--json', ...args, '--driver', 'buildx', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DryRun;
}

describe('familiar names (the key BuildKit looks a FROM up by among named contexts)', () => {
  const cases: Array<[string, string]> = [
    ['docker.io/davidliyutong/idekube-container:featured-base-v0.4.2', 'davidliyutong/idekube-container:featured-base-v0.4.2'],
    ['index.docker.io/someone/img:1', 'someone/img:1'],
    ['docker.io/library/debian:bookworm', 'debian:bookworm'],
    ['docker.io/library/debian:latest', 'debian'],
    ['debian', 'debian'],
    ['someone/img', 'someone/img'],
    ['docker.io/library/a/b:1', 'library/a/b:1'],
    ['ghcr.io/org/img:tag', 'ghcr.io/org/img:tag'],
    ['127.0.0.1:5000/idekube-test/fixture:web-base-x', '127.0.0.1:5000/idekube-test/fixture:web-base-x'],
    ['localhost/img:latest', 'localhost/img'],
    [`docker.io/library/debian@sha256:${'a'.repeat(64)}`, `debian@sha256:${'a'.repeat(64)}`],
  ];
  for (const [ref, want] of cases) it(`${ref} → ${want}`, () => assert.equal(familiarName(ref), want));
});

describe('bake file', () => {
  it('on docker.io (the default registry) the child names its parent by the familiar name', () => {
    const out = dryRun(['--registry', 'docker.io', '--author', 'someone', 'build', 'alpha/child'], '');
    const child = out.bake.target['alpha-child']!;
    assert.deepEqual(child.contexts, { 'someone/idekube-container:alpha-base-v1.0.0': 'target:alpha-base' });
    assert.equal(out.plan.images[0]!.ref, 'docker.io/someone/idekube-container:alpha-base-v1.0.0');
  });

  it('on another registry the key keeps the host', () => {
    const out = dryRun(['--registry', 'ghcr.io', '--author', 'org', 'build', 'alpha/child']);
    assert.deepEqual(out.bake.target['alpha-child']!.contexts, { 'ghcr.io/org/idekube-container:alpha-base-v1.0.0': 'target:alpha-base' });
  });

  it('--arch-only: a target per platform, pushed under its per-arch tag only, child tied to its parent of the same arch', () => {
    const out = dryRun([
      '--registry',
      'ghcr.io',
      '--author',
      'org',
      'build',
      'alpha/child',
      '--push',
      '--arch-only',
      '--platform',
      'linux/amd64',
    ]);
    assert.deepEqual(out.bake.group.default.targets, ['alpha-base-amd64', 'alpha-child-amd64']);
    const child = out.bake.target['alpha-child-amd64']!;
    assert.deepEqual(child.platforms, ['linux/amd64']);
    assert.deepEqual(child.tags, ['ghcr.io/org/idekube-container:alpha-child-v1.0.0-amd64']);
    assert.deepEqual(child.contexts, { 'ghcr.io/org/idekube-container:alpha-base-v1.0.0': 'target:alpha-base-amd64' });
    assert.deepEqual(child.output, ['type=image,push=true']);
  });

  it('--arch-only for two platforms: one target each; the registry cache is per arch', () => {
    const out = dryRun(['build', 'alpha/base', '--push', '--arch-only', '--cache', 'registry']);
    assert.deepEqual(out.bake.group.default.targets, ['alpha-base-amd64', 'alpha-base-arm64']);
    assert.deepEqual(out.bake.target['alpha-base-arm64']!['cache-from'], [
      'type=registry,ref=docker.io/davidliyutong/idekube-container:buildcache-alpha-base-arm64',
    ]);
  });

  it('without --arch-only: one target per image with every platform and the multi-arch tag', () => {
    const out = dryRun(['build', 'alpha/base', '--push']);
    assert.deepEqual(out.bake.target['alpha-base']!.platforms, ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(out.bake.target['alpha-base']!.tags, ['docker.io/davidliyutong/idekube-container:alpha-base-v1.0.0']);
  });

  it('${…} and %{…} in values stay literal (JSON bake strings are HCL templates)', () => {
    const out = dryRun(['--set', 'TZ=Etc/${UTC}', '--set', 'TOOL_VERSION=%{if x}1%{endif}', 'build', 'alpha/base']);
    const args = out.bake.target['alpha-base']!.args as Record<string, string>;
    assert.equal(args.TZ, 'Etc/$${UTC}');
    assert.equal(args.TOOL_VERSION, '%%{if x}1%%{endif}');
    // a lone $ or % is not a template sigil and stays as it is
    const plain = dryRun(['--set', 'TZ=a$b%c{d}', 'build', 'alpha/base']);
    assert.equal((plain.bake.target['alpha-base']!.args as Record<string, string>).TZ, 'a$b%c{d}');
  });

  it('the dry run prints the exact argv: --load and the machine-readable progress included', () => {
    const out = dryRun(['build', 'alpha/base', '--load', '--platform', 'linux/amd64']);
    assert.ok(out.argv.includes('--load'), out.argv.join(' '));
    assert.deepEqual(out.argv.slice(out.argv.indexOf('--progress'), out.argv.indexOf('--progress') + 2), ['--progress', 'rawjson']);
    assert.deepEqual(out.bake.target['alpha-base']!.output, ['type=docker']);
  });

  it('publish accepts --arch-only (publish is build --push)', () => {
    const out = dryRun(['publish', 'alpha/base', '--arch-only', '--platform', 'linux/arm64']);
    assert.deepEqual(out.bake.group.default.targets, ['alpha-base-arm64']);
    assert.ok(out.argv.includes('--push'));
  });

  it('--attest: provenance and SBOM; --sbom-generator names the scanner image', () => {
    assert.deepEqual(dryRun(['build', 'alpha/base', '--attest']).bake.target['alpha-base']!.attest, [
      'type=provenance,mode=max',
      'type=sbom',
    ]);
    const mirror = 'registry.example.com/mirror/buildkit-syft-scanner:stable-1';
    assert.deepEqual(dryRun(['build', 'alpha/base', '--attest', '--sbom-generator', mirror]).bake.target['alpha-base']!.attest, [
      'type=provenance,mode=max',
      `type=sbom,generator=${mirror}`,
    ]);
  });

  it('bad --sbom-generator, or --attest on the docker driver, is bad input (exit 2)', () => {
    const dir = makeProject();
    dirs.push(dir);
    const run = (...a: string[]) => runCli(['-C', dir, 'build', 'alpha/base', '--dry-run', ...a]);
    for (const [args, msg] of [
      [['--driver', 'buildx', '--sbom-generator', 'x/y'], /--sbom-generator needs --attest/],
      [['--driver', 'buildx', '--attest', '--sbom-generator', 'x,generator=evil'], /is not an image reference/],
      [['--driver', 'buildx', '--attest', '--sbom-generator', 'a b'], /is not an image reference/],
      [['--driver', 'docker', '--attest'], /--attest needs the buildx driver/],
    ] as const) {
      const r = run(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });
});
