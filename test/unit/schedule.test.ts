/** Start order of a build: the longest remaining chain first, from recorded times or a guess. No engine. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadProject } from '../../src/config/project.js';
import { readBuildTimes, recordBuildTimes } from '../../src/plan/build-times.js';
import { makePlan } from '../../src/plan/make-plan.js';
import { EMULATION_FACTOR, criticalPath, estimateCosts, nativeArchs } from '../../src/plan/schedule.js';
import { cleanup } from '../helpers/project.js';

const FIXTURE = resolve('test/fixtures/catalog');
const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

const project = loadProject({ dir: FIXTURE, sets: [], flags: { GIT_TAG: 'v1.0.0' }, env: {} });
const plan = makePlan(project, {
  flavors: project.catalog.order,
  driver: 'docker',
  push: false,
  cache: 'none',
  aliases: [],
  contextRoot: '/ctx',
  facts: {},
});
const startOrder = (priority: Map<string, number>) => plan.targets.map((t) => t.id).sort((a, b) => priority.get(b)! - priority.get(a)!);

describe('build scheduling', () => {
  it('on an amd64 host without history, the emulated arm64 chain starts first', () => {
    const costs = estimateCosts(project, plan, { nativeArchs: new Set(['amd64']), history: {} });
    assert.equal(costs.get('web/base@linux/arm64'), costs.get('web/base@linux/amd64')! * EMULATION_FACTOR);
    const order = startOrder(criticalPath(plan.targets, costs));
    assert.equal(order[0], 'web/base@linux/arm64');
    // a parent always outranks its child: it heads the child's chain
    assert.ok(order.indexOf('web/base@linux/amd64') < order.indexOf('web/extra@linux/amd64'));
  });
  it('a chain is ranked by its whole length, not its head alone', () => {
    const costs = new Map(plan.targets.map((t) => [t.id, 10]));
    costs.set('desk/base@linux/amd64', 25); // longer than web/base alone, shorter than web/base + web/jupyter
    costs.set('web/jupyter@linux/amd64', 20);
    const p = criticalPath(plan.targets, costs);
    assert.equal(p.get('web/base@linux/amd64'), 30); // 10 + max(web/extra 10, web/jupyter 20)
    assert.equal(p.get('desk/base@linux/amd64'), 25);
    assert.equal(startOrder(p)[0], 'web/base@linux/amd64');
  });
  it('recorded full-build times replace the guess', () => {
    const history = Object.fromEntries(plan.targets.map((t) => [t.id, 1000]));
    history['desk/base@linux/amd64'] = 90_000;
    const order = startOrder(criticalPath(plan.targets, estimateCosts(project, plan, { nativeArchs: new Set(['amd64']), history })));
    assert.equal(order[0], 'desk/base@linux/amd64');
  });
  it("the host's architecture is native, and one with an engine of its own", () => {
    assert.deepEqual([...nativeArchs({}, 'amd64')], ['amd64']);
    assert.deepEqual([...nativeArchs({}, 'arm64')], ['arm64']);
    assert.deepEqual([...nativeArchs({ 'linux/arm64': 'ssh://arm-host' }, 'amd64')], ['amd64', 'arm64']);
    assert.deepEqual([...nativeArchs({ 'linux/amd64': 'ssh://x86-host' }, 'arm64')], ['arm64', 'amd64']);
    // a host that is neither builds everything emulated, unless given an engine
    assert.deepEqual([...nativeArchs({}, null)], []);
    assert.deepEqual([...nativeArchs({ 'linux/amd64': 'ssh://x86-host', 'linux/arm64': 'ssh://arm-host' }, null)], ['amd64', 'arm64']);
  });
  it('only full builds are recorded; a damaged record is ignored', () => {
    const root = mkdtempSync(join(tmpdir(), 'idekube-times-'));
    dirs.push(root);
    recordBuildTimes(root, [
      { id: 'a@linux/amd64', status: 'built', durationMs: 5000, executed: 4, cachedSteps: 0 },
      { id: 'b@linux/amd64', status: 'built', durationMs: 300, executed: 1, cachedSteps: 3 },
      { id: 'c@linux/amd64', status: 'cached', durationMs: 200, executed: 0, cachedSteps: 4 },
      { id: 'd@linux/amd64', status: 'failed', durationMs: 100 },
    ]);
    assert.deepEqual(readBuildTimes(root), { 'a@linux/amd64': 5000 });
    recordBuildTimes(root, [{ id: 'a@linux/amd64', status: 'built', durationMs: 200, executed: 1, cachedSteps: 3 }]);
    assert.deepEqual(readBuildTimes(root), { 'a@linux/amd64': 5000 });
    writeFileSync(join(root, '.idekube/cache/build-times.json'), '{"a@linux/amd64": "soon", "b@linux/amd64": 7');
    assert.deepEqual(readBuildTimes(root), {});
  });
});
