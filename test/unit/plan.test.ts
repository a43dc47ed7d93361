/** The plan is a plain value: targets × platforms, parents included, tags, args, guards. No engine involved. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadProject } from '../../src/config/project.js';
import { makePlan, type PlanOptions } from '../../src/plan/make-plan.js';
import { cleanup, makeProject } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));
const facts = { revision: 'abc', created: '2026-01-01T00:00:00Z' };
function plan(opts: Partial<PlanOptions> & { flavors: string[] }) {
  const dir = makeProject();
  dirs.push(dir);
  const p = loadProject({ dir, sets: [], flags: { GIT_TAG: 'v1.2.3', REGISTRY: 'reg.example' }, env: {} });
  return makePlan(p, { driver: 'docker', push: false, cache: 'none', aliases: [], contextRoot: '/ctx', facts, ...opts });
}

describe('build plan', () => {
  it('a child brings its parents, in dependency order, per platform', () => {
    const p = plan({ flavors: ['alpha/child'] });
    assert.deepEqual(
      p.targets.map((t) => t.id),
      ['alpha/base@linux/amd64', 'alpha/base@linux/arm64', 'alpha/child@linux/amd64', 'alpha/child@linux/arm64'],
    );
    assert.deepEqual(
      p.images.map((i) => `${i.flavor}:${i.reason}`),
      ['alpha/base:parent', 'alpha/child:selected'],
    );
    const child = p.targets.find((t) => t.id === 'alpha/child@linux/arm64')!;
    assert.deepEqual(child.dependsOn, ['alpha/base@linux/arm64']);
    assert.equal(child.buildArgs.IDEKUBE_PARENT, 'reg.example/davidliyutong/idekube-container:alpha-base-v1.2.3-arm64');
    assert.equal(child.tag, 'reg.example/davidliyutong/idekube-container:alpha-child-v1.2.3-arm64');
    assert.equal(child.contextDir, '/ctx/alpha/child');
    assert.equal(child.labels['org.opencontainers.image.version'], 'v1.2.3');
    assert.equal(child.labels['org.opencontainers.image.revision'], 'abc');
  });
  it('platforms: a flavor that does not build a requested platform is noted, not built for it', () => {
    const p = plan({ flavors: ['alpha/grandchild'], platforms: ['linux/amd64', 'linux/arm64'] });
    assert.deepEqual(
      p.targets.filter((t) => t.flavor === 'alpha/grandchild').map((t) => t.platform),
      ['linux/amd64'],
    );
    assert.match(p.notes.join('\n'), /alpha\/grandchild: not built for linux\/arm64 \(the flavor does not support it\)/);
  });
  it("publishing a subset of a flavor's platforms is refused (a list would lack one) unless --arch-only", () => {
    assert.throws(
      () => plan({ flavors: ['beta/base'], platforms: ['linux/amd64'], push: true }),
      /publishing beta\/base for linux\/amd64 would write a list without linux\/arm64/,
    );
    const p = plan({ flavors: ['beta/base'], platforms: ['linux/amd64'], push: true, archOnly: true });
    assert.equal(p.archOnly, true);
    assert.deepEqual(
      p.targets.map((t) => t.id),
      ['beta/base@linux/amd64'],
    );
  });
  it('registry cache refs per flavor and arch; cache-to only when pushing', () => {
    const p = plan({ flavors: ['beta/base'], cache: 'registry', push: true });
    const t = p.targets[0]!;
    assert.deepEqual(t.cacheFrom, ['reg.example/davidliyutong/idekube-container:buildcache-beta-base-amd64']);
    assert.equal(t.cacheTo, t.cacheFrom[0]);
    assert.equal(plan({ flavors: ['beta/base'], cache: 'registry' }).targets[0]!.cacheTo, undefined);
  });
  it('aliases for a release', () => {
    const p = plan({ flavors: ['beta/base'], aliases: ['latest', 'minor'] });
    assert.deepEqual(p.images[0]!.aliases, [
      'reg.example/davidliyutong/idekube-container:beta-base-latest',
      'reg.example/davidliyutong/idekube-container:beta-base-v1.2',
    ]);
  });
  it('only the args the flavor reads are build args', () => {
    const t = plan({ flavors: ['beta/base'] }).targets[0]!;
    assert.deepEqual(Object.keys(t.buildArgs).sort(), ['BASE_IMAGE', 'TZ']); // not TOOL_VERSION (.dockerargs has it, beta/base does not read it)
  });
});
