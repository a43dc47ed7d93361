/** The generic task scheduler: dependency order, bounded concurrency, priority, skip and cancel. No engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScheduled, type SchedTask, type SkipReason } from '../../src/plan/scheduler.js';

interface Run {
  log: string[];
  skipped: Map<string, SkipReason>;
  maxRunning: number;
}

/** Runs `tasks`; a task named in `failing` fails, each takes one macrotask (so that several overlap). */
async function schedule(
  tasks: SchedTask[],
  o: { jobs?: number; failing?: string[]; priority?: Record<string, number>; abortOn?: string; controller?: AbortController } = {},
): Promise<Run> {
  const controller = o.controller ?? new AbortController();
  const outcomes = new Map<string, boolean>();
  const run: Run = { log: [], skipped: new Map(), maxRunning: 0 };
  let running = 0;
  await runScheduled(tasks, {
    jobs: o.jobs ?? 2,
    signal: controller.signal,
    ...(o.priority ? { priority: (id: string) => o.priority?.[id] ?? 0 } : {}),
    run: async (t) => {
      run.log.push(`start ${t.id}`);
      running++;
      run.maxRunning = Math.max(run.maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      const ok = !o.failing?.includes(t.id);
      outcomes.set(t.id, ok);
      run.log.push(`end ${t.id}`);
      if (t.id === o.abortOn) controller.abort();
    },
    outcome: (id) => outcomes.get(id),
    skip: (t, why) => {
      run.skipped.set(t.id, why);
      outcomes.set(t.id, false);
    },
  });
  return run;
}

const task = (id: string, ...dependsOn: string[]): SchedTask => ({ id, dependsOn });

describe('task scheduler', () => {
  it('starts a task only after its dependencies succeeded', async () => {
    const r = await schedule([task('child', 'parent'), task('parent'), task('grandchild', 'child')]);
    assert.deepEqual(r.log, ['start parent', 'end parent', 'start child', 'end child', 'start grandchild', 'end grandchild']);
    assert.equal(r.skipped.size, 0);
  });
  it('runs at most `jobs` tasks at once', async () => {
    const r = await schedule(
      ['a', 'b', 'c', 'd', 'e'].map((id) => task(id)),
      { jobs: 2 },
    );
    assert.equal(r.maxRunning, 2);
    assert.equal(r.log.filter((l) => l.startsWith('end')).length, 5);
  });
  it('starts the highest priority first, list order among equals', async () => {
    const r = await schedule([task('a'), task('b'), task('c'), task('d')], { jobs: 1, priority: { c: 5, d: 5 } });
    assert.deepEqual(
      r.log.filter((l) => l.startsWith('start')),
      ['start c', 'start d', 'start a', 'start b'],
    );
  });
  it('skips the dependents of a failed task, naming it, and runs the rest', async () => {
    const r = await schedule([task('base'), task('mid', 'base'), task('leaf', 'mid'), task('other')], { failing: ['base'] });
    assert.deepEqual(r.skipped.get('mid'), { kind: 'dependency', dependency: 'base' });
    assert.deepEqual(r.skipped.get('leaf'), { kind: 'dependency', dependency: 'mid' });
    assert.ok(r.log.includes('end other'));
    assert.ok(!r.log.includes('start mid'));
  });
  it('after an abort starts nothing more and cancels what waits; running tasks finish', async () => {
    const r = await schedule([task('a'), task('b'), task('c'), task('d', 'a')], { jobs: 2, abortOn: 'a' });
    assert.deepEqual(
      r.log.filter((l) => l.startsWith('start')),
      ['start a', 'start b'],
    );
    assert.ok(r.log.includes('end b'));
    assert.deepEqual([...r.skipped.entries()].sort(), [
      ['c', { kind: 'cancelled' }],
      ['d', { kind: 'cancelled' }],
    ]);
  });
  it('an already aborted signal cancels everything', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await schedule([task('a'), task('b', 'a')], { controller });
    assert.deepEqual(r.log, []);
    assert.deepEqual([...r.skipped.values()], [{ kind: 'cancelled' }, { kind: 'cancelled' }]);
  });
  it('a task whose dependency is not in the list never runs: skipped as stuck', async () => {
    const r = await schedule([task('a'), task('orphan', 'missing')]);
    assert.deepEqual(r.skipped.get('orphan'), { kind: 'stuck' });
    assert.ok(r.log.includes('end a'));
  });
});
