import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadProject } from '../../src/config/project.js';
import { resolveArgs, requireValues } from '../../src/config/resolve.js';
import { describeOrigin } from '../../src/config/layered.js';
import { cleanup, makeProject } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

function project(overrides: Record<string, string> = {}) {
  const dir = makeProject(undefined, {
    'flavors/layers/base.yaml':
      'run: install.sh\nargs:\n  TZ: UTC\n  A: from-layer\n  B: from-layer\n  C: from-layer\n  D: from-layer\n  E: from-layer\n  F: from-layer\n  G: from-layer\n',
    'flavors/alpha/base/flavor.yaml':
      'from:\n  image: ${BASE_IMAGE}\nlayers: [base, tool]\nargs:\n  B: from-manifest\n  C: from-manifest\n  D: from-manifest\n  E: from-manifest\n  F: from-manifest\n  G: from-manifest\n',
    '.dockerargs':
      'BASE_IMAGE=debian:bookworm\nTOOL_VERSION=1.0\nC=from-dockerargs\nD=from-dockerargs\nE=from-dockerargs\nF=from-dockerargs\nG=from-dockerargs\nUNUSED=x\n',
    '.dockerargs.fast': 'D=from-profile\nE=from-profile\nF=from-profile\nG=from-profile\n',
    'flavors/alpha/base/.dockerargs': 'E=from-flavor-file\nF=from-flavor-file\nG=from-flavor-file\n',
    ...overrides,
  });
  dirs.push(dir);
  return dir;
}

const valuesOf = (args: ReturnType<typeof resolveArgs>) => Object.fromEntries(args.map((a) => [a.key, a.value]));

describe('build-arg precedence', () => {
  it('layer < manifest < .dockerargs < profile < flavor .dockerargs < env < --set', () => {
    const dir = project();
    const p = loadProject({
      dir,
      profile: 'fast',
      sets: ['G=from-set'],
      flags: {},
      env: { IDEKUBE_ARG_F: 'from-env', IDEKUBE_ARG_G: 'from-env' },
    });
    const args = resolveArgs(p.catalog, p.layered, 'alpha/base');
    assert.deepEqual(valuesOf(args), {
      A: 'from-layer',
      B: 'from-manifest',
      BASE_IMAGE: 'debian:bookworm',
      C: 'from-dockerargs',
      D: 'from-profile',
      E: 'from-flavor-file',
      F: 'from-env',
      G: 'from-set',
      TOOL_VERSION: '1.0',
      TZ: 'UTC',
    });
    const origin = Object.fromEntries(args.map((a) => [a.key, describeOrigin(a.origin)]));
    assert.equal(origin.A, 'flavors/layers/base.yaml:4 (layer base)');
    assert.equal(origin.B, 'flavors/alpha/base/flavor.yaml:5');
    assert.equal(origin.C, '.dockerargs:3');
    assert.equal(origin.D, '.dockerargs.fast:1');
    assert.equal(origin.E, 'flavors/alpha/base/.dockerargs:1');
    assert.equal(origin.F, 'env IDEKUBE_ARG_F');
    assert.equal(origin.G, 'flag --set G');
    const g = args.find((a) => a.key === 'G')!;
    assert.deepEqual(
      g.overridden.map((o) => o.value),
      ['from-layer', 'from-manifest', 'from-dockerargs', 'from-profile', 'from-flavor-file', 'from-env'],
    );
  });
  it('passes only the keys the flavor reads (UNUSED and naming settings are not build args)', () => {
    const dir = project();
    const p = loadProject({ dir, sets: [], flags: {}, env: {} });
    const keys = resolveArgs(p.catalog, p.layered, 'alpha/base').map((a) => a.key);
    assert.ok(!keys.includes('UNUSED'));
    assert.ok(!keys.includes('TAG_POSTFIX'));
  });
  it("a child reads its parent layers args too, but not a sibling flavor's .dockerargs", () => {
    const dir = project();
    const p = loadProject({ dir, sets: [], flags: {}, env: {} });
    const v = valuesOf(resolveArgs(p.catalog, p.layered, 'alpha/child'));
    assert.equal(v.TOOL_VERSION, '1.0');
    assert.equal(v.E, 'from-dockerargs');
  });
  it('a required arg without value is reported by name', () => {
    const dir = project({ '.dockerargs': 'BASE_IMAGE=x\n' });
    const p = loadProject({ dir, sets: [], flags: {}, env: {} });
    assert.throws(
      () => requireValues('alpha/base', resolveArgs(p.catalog, p.layered, 'alpha/base')),
      /build arg TOOL_VERSION of alpha\/base has no value \(read by layer tool\)/,
    );
  });
  it('KEY= in .dockerargs sets the empty string (it is a value, not a missing one)', () => {
    const dir = project({ '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=\n' });
    const p = loadProject({ dir, sets: [], flags: {}, env: {} });
    assert.equal(requireValues('alpha/base', resolveArgs(p.catalog, p.layered, 'alpha/base')).TOOL_VERSION, '');
  });
});

describe('settings precedence (REGISTRY, AUTHOR, NAME, TAG_POSTFIX, GIT_TAG)', () => {
  it('defaults < .dockerargs < profile < env < --set < dedicated flags', () => {
    const dir = project({
      '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=1\nREGISTRY=file.example\nAUTHOR=fileauthor\nTAG_POSTFIX=-file\n',
      '.dockerargs.fast': 'TAG_POSTFIX=-fast\n',
    });
    const p = loadProject({
      dir,
      profile: 'fast',
      sets: ['AUTHOR=setauthor'],
      flags: { NAME: 'flagname' },
      env: { REGISTRY: 'env.example:5000', AUTHOR: 'envauthor', GIT_TAG: 'v1.2.3' },
    });
    assert.deepEqual(p.naming, { registry: 'env.example:5000', author: 'setauthor', name: 'flagname', gitTag: 'v1.2.3', postfix: '-fast' });
  });
  it('upstream defaults when nothing is set; empty env vars count as unset, except TAG_POSTFIX', () => {
    const dir = project({ '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=1\nTAG_POSTFIX=-file\n' });
    const p = loadProject({ dir, sets: [], flags: {}, env: { REGISTRY: '', TAG_POSTFIX: '' } });
    assert.deepEqual(
      [p.naming.registry, p.naming.author, p.naming.name, p.naming.postfix],
      ['docker.io', 'davidliyutong', 'idekube-container', ''],
    );
  });
  it('profiles come from IDEKUBE_PROFILE too', () => {
    const dir = project();
    const p = loadProject({ dir, sets: [], flags: {}, env: { IDEKUBE_PROFILE: 'fast' } });
    assert.equal(p.layered.profile?.name, 'fast');
  });
});
