/** The end of a bake run: each target's result from what its vertexes said, and the target-end events. */
import { isUserStep } from '../engine/build.js';
import type { BakeOutcome } from './bake-progress.js';
import { owned, unitKey, unitsOf, type BakeState, type Seen, type Unit } from './bake-state.js';
import type { TargetResult } from './events.js';

const CANCELLED = /context canceled/;

interface Ended {
  r: TargetResult;
  reason?: string;
}

/** What the whole run knows when it ends. */
interface Ending {
  s: BakeState;
  outcome: BakeOutcome;
  now: () => number;
  own: Map<Unit, Seen[]>;
  anyFailed: boolean;
  bakeError: string | undefined;
  ended: Map<Unit, Ended>;
}

/** Ends every target (emits target-end once each) and returns their results, in the order given. */
export function finishBake(s: BakeState, outcome: BakeOutcome, now: () => number): TargetResult[] {
  const own = ownedSteps(s);
  const ending: Ending = {
    s,
    outcome,
    now,
    own,
    anyFailed: [...s.units.values()].some((u) => failureOf(own, u)),
    bakeError: [...s.bakeTail].reverse().find((l) => l.startsWith('ERROR:')),
    ended: new Map(),
  };
  return [...s.units.values()].map((u) => {
    const { r, reason } = endUnit(ending, u);
    if (!u.startEmitted && (r.status === 'built' || r.status === 'cached' || r.status === 'failed'))
      s.emit({ type: 'target-start', target: u.id });
    const { id: _id, flavor: _f, platform: _p, tag: _t, ...rest } = r;
    s.emit({ type: 'target-end', target: u.id, ...rest, ...(reason ? { reason } : {}) });
    return r;
  });
}

/** What each unit owns over the whole run (a digest may have shown up under a parent after the child). */
function ownedSteps(s: BakeState): Map<Unit, Seen[]> {
  const own = new Map<Unit, Seen[]>([...s.units.values()].map((u) => [u, []]));
  for (const [digest, perBake] of s.vertexes) {
    for (const [bake, seen] of perBake) if (owned(s, digest, bake)) for (const u of unitsOf(s, digest, bake, seen)) own.get(u)!.push(seen);
  }
  return own;
}

const failureOf = (own: Map<Unit, Seen[]>, u: Unit): Seen | undefined => own.get(u)!.find((s) => s.error && !CANCELLED.test(s.error));

/** Durations from the vertexes' own clocks, not the whole bake's; one still running at the end runs until now. */
function durationOf(seen: Seen[], now: () => number): number {
  const starts = seen.flatMap((s) => (s.started !== undefined ? [s.started] : []));
  const ends = seen.flatMap((s) => (s.done && s.completed !== undefined ? [s.completed] : s.started !== undefined ? [now()] : []));
  return starts.length && ends.length ? Math.max(0, Math.round(Math.max(...ends) - Math.min(...starts))) : 0;
}

function endUnit(e: Ending, u: Unit): Ended {
  const hit = e.ended.get(u);
  if (hit) return hit;
  // in the order they ran (digests arrive in graph order, last step first); sorted in place, so failureOf sees this order
  const seen = e.own.get(u)!.sort((a, b) => (a.started ?? Infinity) - (b.started ?? Infinity));
  const user = seen.filter((s) => isUserStep(s.name));
  // a step that never started was not run (its result came from the cache)
  const ran = user.filter((s) => s.started !== undefined && !s.cached);
  const base = {
    id: u.id,
    flavor: u.info.flavor,
    platform: u.platform,
    tag: u.info.tags?.[u.platform] ?? '',
    durationMs: durationOf(seen, e.now),
  };
  const counts = { executed: ran.length, cachedSteps: user.length - ran.length, ran: ran.map((s) => s.name) };
  const failure = failureOf(e.own, u);
  // BuildKit lists a target's whole graph once its Dockerfile is read, so all own steps done: the target is done
  const complete = user.length > 0 && seen.every((s) => !s.error && (s.done || s.started === undefined)) && user.every((s) => s.done);
  let out: Ended;
  if (!e.outcome.ok && failure) out = { r: { ...base, status: 'failed', ...counts, error: failure.error!, log: [...u.tail] } };
  else if (e.outcome.ok || complete) out = { r: { ...base, status: counts.executed ? 'built' : 'cached', ...counts } };
  else if (e.outcome.cancelled) out = { r: { ...base, status: 'cancelled', error: 'cancelled' }, reason: 'cancelled' };
  else out = unfinished(e, u, base);
  e.ended.set(u, out);
  return out;
}

/** A target that neither finished nor failed itself, in a bake that was not cancelled: why it stopped. */
function unfinished(e: Ending, u: Unit, base: Omit<TargetResult, 'status'>): Ended {
  const parentInfo = u.info.parent ? e.s.byName.get(u.info.parent) : undefined;
  const parentUnit = parentInfo && e.s.units.get(unitKey(parentInfo.bakeName, u.platform));
  const parent = parentUnit ? endUnit(e, parentUnit).r : undefined;
  if (parent?.status === 'failed' || parent?.status === 'skipped') {
    const reason = `its parent ${parent.id} ${parent.status}`;
    return { r: { ...base, status: 'skipped', error: reason }, reason };
  }
  if (e.anyFailed) {
    // bake stops every target once one fails, like the docker driver's --fail-fast
    const reason = 'stopped: another target failed';
    return { r: { ...base, status: 'cancelled', error: reason }, reason };
  }
  // no vertex says why (bake itself failed): its own `ERROR:` line does
  return {
    r: {
      ...base,
      status: 'failed',
      error: e.bakeError ?? 'bake stopped before this target finished',
      log: [...(u.tail.length ? u.tail : e.s.bakeTail)],
    },
  };
}
