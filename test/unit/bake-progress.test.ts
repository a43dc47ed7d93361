/**
 * `docker buildx bake --progress rawjson` → idekube build events, against streams recorded from dockerd 28 +
 * buildx 0.29 (test/fixtures/bake-progress: the bake files, their Dockerfiles under a/, the stderr of each run).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bakeProgress, splitBakeName, type BakeOutcome, type BakeTargetInfo } from '../../src/drivers/bake-progress.js';
import type { BuildEvent, TargetResult } from '../../src/drivers/events.js';
import { REPO_ROOT } from '../helpers/project.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/bake-progress');
const lines = (file: string) => readFileSync(join(FIXTURES, file), 'utf8').split('\n');
const ms = (iso: string) => Date.parse(iso);

/** sample-bake.json: p for two platforms, c (one platform) FROM p through bake `contexts`. */
const SAMPLE: BakeTargetInfo[] = [
  {
    bakeName: 'p',
    flavor: 'w/p',
    platforms: ['linux/amd64', 'linux/arm64'],
    tags: { 'linux/amd64': 'r/p:t-amd64', 'linux/arm64': 'r/p:t-arm64' },
  },
  { bakeName: 'c', flavor: 'w/c', platforms: ['linux/amd64'], parent: 'p' },
];

function run(targets: BakeTargetInfo[], input: string[], outcome: BakeOutcome, now?: () => number) {
  const events: BuildEvent[] = [];
  const progress = bakeProgress(targets, (e) => events.push(e), now);
  for (const l of input) progress.line(l);
  const results = progress.finish(outcome);
  const byId = (id: string): TargetResult => results.find((r) => r.id === id) ?? assert.fail(`no result for ${id}`);
  return { events, results, byId };
}

const OK = { ok: true, cancelled: false };
const FAILED = { ok: false, cancelled: false };

describe('bake vertex names', () => {
  it('split into bake target, platform and the step as the docker driver names it', () => {
    assert.deepEqual(splitBakeName('[p linux/amd64 2/3] RUN echo hi > /x'), {
      bake: 'p',
      platform: 'linux/amd64',
      name: '[2/3] RUN echo hi > /x',
    });
    assert.deepEqual(splitBakeName('[c 1/2] RUN cat /x'), { bake: 'c', name: '[1/2] RUN cat /x' });
    assert.deepEqual(splitBakeName('[p linux/arm64 internal] load metadata for x'), {
      bake: 'p',
      platform: 'linux/arm64',
      name: '[internal] load metadata for x',
    });
    assert.deepEqual(splitBakeName('[web-base linux/arm64/v8 layer-x 2/5] COPY a /b'), {
      bake: 'web-base',
      platform: 'linux/arm64/v8',
      name: '[layer-x 2/5] COPY a /b',
    });
    assert.deepEqual(splitBakeName('[internal] load local bake definitions'), { bake: 'internal', name: 'load local bake definitions' });
    assert.equal(splitBakeName('exporting to image'), undefined);
  });
});

describe('bake progress → build events', () => {
  it('first run: one result per flavor@platform, in the order given, with tags', () => {
    const { results, byId } = run(SAMPLE, lines('sample-raw.jsonl'), OK);
    assert.deepEqual(
      results.map((r) => r.id),
      ['w/p@linux/amd64', 'w/p@linux/arm64', 'w/c@linux/amd64'],
    );
    assert.equal(byId('w/p@linux/arm64').tag, 'r/p:t-arm64');
    assert.equal(byId('w/c@linux/amd64').tag, '');
    for (const id of ['w/p@linux/amd64', 'w/p@linux/arm64']) {
      const r = byId(id);
      assert.equal(r.status, 'built', id);
      assert.deepEqual(r.ran, ['[2/3] RUN echo hi > /x', '[3/3] RUN echo two'], id);
      assert.equal(r.cachedSteps, 0, id);
    }
  });

  it("the parent's steps, also reported under the child's prefix, count for the parent only", () => {
    const { events, byId } = run(SAMPLE, lines('sample-raw.jsonl'), OK);
    const child = byId('w/c@linux/amd64');
    assert.equal(child.status, 'built');
    assert.deepEqual(child.ran, ['[1/2] RUN cat /x']);
    assert.equal(child.executed, 1);
    const childSteps = events.filter((e) => e.type === 'step' && e.target === 'w/c@linux/amd64').map((e) => (e as { name: string }).name);
    assert.ok(childSteps.includes('[1/2] RUN cat /x'));
    assert.ok(!childSteps.some((n) => /echo/.test(n)), `no parent step under the child: ${childSteps}`);
    // output goes to the target whose step wrote it
    const logs = events.filter((e) => e.type === 'log').map((e) => `${(e as { target: string }).target}: ${(e as { line: string }).line}`);
    assert.deepEqual(logs.sort(), ['w/c@linux/amd64: hi', 'w/p@linux/amd64: two', 'w/p@linux/arm64: two']);
  });

  it('a digest first seen under the child goes to the parent once the parent reports it', () => {
    const v = (name: string, extra: object) => JSON.stringify({ vertexes: [{ digest: 'sha256:d1', name, ...extra }] });
    const t0 = '2026-01-01T00:00:00Z';
    const t1 = '2026-01-01T00:00:01Z';
    const input = [
      v('[c linux/amd64 2/3] RUN echo hi', { started: t0, completed: t1 }),
      v('[p linux/amd64 2/3] RUN echo hi', { started: t0, completed: t1 }),
      JSON.stringify({ vertexes: [{ digest: 'sha256:d2', name: '[c 1/2] RUN cat /x', started: t1, completed: t1, cached: true }] }),
    ];
    const { byId } = run(SAMPLE, input, OK);
    assert.deepEqual(byId('w/p@linux/amd64').ran, ['[2/3] RUN echo hi']);
    assert.equal(byId('w/p@linux/arm64').executed, 0);
    assert.deepEqual(
      [byId('w/c@linux/amd64').status, byId('w/c@linux/amd64').executed, byId('w/c@linux/amd64').cachedSteps],
      ['cached', 0, 1],
    );
  });

  it('events per target: target-start once, before its steps, and target-end last', () => {
    const { events } = run(SAMPLE, lines('sample-raw.jsonl'), OK);
    for (const id of ['w/p@linux/amd64', 'w/p@linux/arm64', 'w/c@linux/amd64']) {
      const own = events.filter((e) => 'target' in e && e.target === id);
      assert.equal(own[0]!.type, 'target-start', id);
      assert.equal(own.filter((e) => e.type === 'target-start').length, 1, id);
      assert.equal(own.at(-1)!.type, 'target-end', id);
      assert.ok(
        own.some((e) => e.type === 'step' && e.completed),
        id,
      );
    }
    const end = events.find((e) => e.type === 'target-end' && e.target === 'w/c@linux/amd64');
    assert.deepEqual(end, {
      type: 'target-end',
      target: 'w/c@linux/amd64',
      status: 'built',
      durationMs: 1247,
      executed: 1,
      cachedSteps: 0,
      ran: ['[1/2] RUN cat /x'],
    });
  });

  it('durations come from the vertexes own timestamps, not from the clock', () => {
    const { byId } = run(SAMPLE, lines('sample-raw.jsonl'), OK, () => 9e15);
    // from the first own vertex started ([p internal] load build definition) to the last completed
    assert.equal(byId('w/p@linux/amd64').durationMs, ms('2026-11-29T17:42:28.134Z') - ms('2026-11-29T17:42:27.311Z'));
    assert.equal(byId('w/p@linux/arm64').durationMs, ms('2026-11-29T17:42:31.182Z') - ms('2026-11-29T17:42:27.311Z'));
    assert.equal(byId('w/c@linux/amd64').durationMs, ms('2026-11-29T17:42:28.558Z') - ms('2026-11-29T17:42:27.311Z'));
  });

  it('second run: everything cached, executed 0', () => {
    const { results } = run(SAMPLE, lines('sample-cached.jsonl'), OK);
    assert.deepEqual(
      results.map((r) => [r.id, r.status, r.executed, r.cachedSteps]),
      [
        ['w/p@linux/amd64', 'cached', 0, 2],
        ['w/p@linux/arm64', 'cached', 0, 2],
        ['w/c@linux/amd64', 'cached', 0, 1],
      ],
    );
  });

  it('a failing RUN fails that target and platform only, with the error and the last lines of its output', () => {
    const targets: BakeTargetInfo[] = [
      { bakeName: 'p', flavor: 'w/p', platforms: ['linux/amd64', 'linux/arm64'] },
      { bakeName: 'f', flavor: 'w/f', platforms: ['linux/amd64', 'linux/arm64'], parent: 'p' },
      { bakeName: 's', flavor: 'w/s', platforms: ['linux/amd64'] },
    ];
    const { events, byId } = run(targets, lines('sample-fail.jsonl'), FAILED);
    const arm = byId('w/f@linux/arm64');
    assert.equal(arm.status, 'failed');
    assert.match(arm.error!, /did not complete successfully: exit code: 3$/);
    assert.equal(arm.log!.length, 15);
    assert.deepEqual([arm.log![0], arm.log!.at(-1)], ['line 7', 'boom on arm']);
    assert.equal(arm.durationMs, ms('2026-11-29T17:43:48.579Z') - ms('2026-11-29T17:43:47.696Z'));
    // the same step passed on amd64, and the parent was all cached
    assert.deepEqual([byId('w/f@linux/amd64').status, byId('w/f@linux/amd64').executed], ['built', 1]);
    assert.equal(byId('w/p@linux/amd64').status, 'cached');
    assert.equal(byId('w/p@linux/arm64').status, 'cached');
    // bake stopped the unrelated target mid-RUN ("context canceled"): cancelled, not failed
    assert.equal(byId('w/s@linux/amd64').status, 'cancelled');
    const end = events.find((e) => e.type === 'target-end' && e.target === 'w/s@linux/amd64');
    assert.equal((end as { reason?: string }).reason, 'stopped: another target failed');
    // bake's own text (the Dockerfile excerpt, ERROR: …) is passed on
    assert.ok(events.some((e) => e.type === 'log' && e.target === 'bake' && /^ERROR: target f: failed to solve/.test(e.line)));
  });

  it("a failing parent fails the parent; the child it stopped is skipped, its parent's error not counted twice", () => {
    const targets: BakeTargetInfo[] = [
      { bakeName: 'q', flavor: 'w/q', platforms: ['linux/amd64'] },
      { bakeName: 'k', flavor: 'w/k', platforms: ['linux/amd64'], parent: 'q' },
    ];
    const { byId } = run(targets, lines('sample-parent-fail.jsonl'), FAILED);
    const q = byId('w/q@linux/amd64');
    assert.deepEqual(
      [q.status, q.error, q.log],
      ['failed', 'process "/bin/sh -c echo parent-output; exit 7" did not complete successfully: exit code: 7', ['parent-output']],
    );
    const k = byId('w/k@linux/amd64');
    assert.deepEqual([k.status, k.error], ['skipped', 'its parent w/q@linux/amd64 failed']);
  });

  it('an interrupted bake: unfinished targets cancelled, a running step counted until now', () => {
    const all = lines('sample-raw.jsonl');
    const cut = all.findIndex((l) => l.includes('"[c 1/2] RUN cat /x"') && l.includes('"started"'));
    assert.ok(cut > 0);
    const now = ms('2026-11-29T17:42:29.000Z');
    const { byId } = run(SAMPLE, all.slice(0, cut + 1), { ok: false, cancelled: true }, () => now);
    const c = byId('w/c@linux/amd64');
    assert.equal(c.status, 'cancelled');
    assert.equal(c.durationMs, now - ms('2026-11-29T17:42:27.311Z'));
    // amd64 of the parent had finished by then, arm64 had not started its steps
    assert.equal(byId('w/p@linux/amd64').status, 'built');
    assert.equal(byId('w/p@linux/arm64').status, 'cancelled');
  });

  it('a bake that fails with no vertex error: targets failed with bake’s ERROR line', () => {
    const { byId } = run(SAMPLE, ['#1 something', 'ERROR: failed to find target default'], FAILED);
    assert.deepEqual([byId('w/p@linux/amd64').status, byId('w/p@linux/amd64').error], ['failed', 'ERROR: failed to find target default']);
    assert.deepEqual(byId('w/p@linux/amd64').log, ['#1 something', 'ERROR: failed to find target default']);
    assert.equal(byId('w/c@linux/amd64').status, 'skipped');
  });

  it('garbage lines do not crash; text lines go on as bake logs', () => {
    const garbage = [
      '',
      'not json',
      '{',
      '[1,2]',
      'null',
      '42',
      '{"vertexes":"x"}',
      '{"vertexes":[null,{"digest":1},{"digest":"sha256:x"}]}',
      '{"logs":[null,{"vertex":"sha256:zz","data":"!!"}],"warnings":[{}]}',
      '{"vertexes":[{"digest":"sha256:y","name":"[other 1/2] RUN x","started":"2026-01-01T00:00:00Z"}]}',
      '{"vertexes":[{"digest":"sha256:z","name":"[p 1/2] RUN x","started":"bogus"}]}',
    ];
    const { events, results } = run(SAMPLE, [...garbage, ...lines('sample-cached.jsonl')], OK);
    assert.deepEqual(
      results.map((r) => r.status),
      ['cached', 'cached', 'cached'],
    );
    const bakeLogs = events.filter((e) => e.type === 'log' && e.target === 'bake').map((e) => (e as { line: string }).line);
    assert.deepEqual(bakeLogs, ['not json', '{', '[1,2]', 'null', '42']);
  });

  it('a bake of one target: names carry no target prefix (bake adds it only for several), steps still counted', () => {
    const single: BakeTargetInfo[] = [{ bakeName: 's-base', flavor: 's/base', platforms: ['linux/amd64', 'linux/arm64'] }];
    const { results, events } = run(single, lines('sample-single.jsonl'), OK);
    for (const id of ['s/base@linux/amd64', 's/base@linux/arm64']) {
      const r = results.find((x) => x.id === id)!;
      assert.equal(r.status, 'built', id);
      assert.equal(r.executed, 1, `${id}: the new RUN ran`);
      assert.equal(r.cachedSteps, 1, `${id}: the layer RUN was cached`);
      assert.ok(r.durationMs > 0);
    }
    assert.ok(events.some((e) => e.type === 'step' && e.target === 's/base@linux/arm64'));
  });

  it('finish twice: the same results, target-end emitted once', () => {
    const events: BuildEvent[] = [];
    const progress = bakeProgress(SAMPLE, (e) => events.push(e));
    for (const l of lines('sample-cached.jsonl')) progress.line(l);
    const a = progress.finish(OK);
    assert.equal(progress.finish(OK), a);
    assert.equal(events.filter((e) => e.type === 'target-end').length, 3);
  });
});
