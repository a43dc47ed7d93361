/**
 * Turns `docker buildx bake --progress rawjson` (stderr, one BuildKit SolveStatus per line) into idekube's build
 * events per target id `<flavor>@<platform>`, the way the docker driver reports them. Pure: no I/O, no engine.
 *
 * Bake prefixes each vertex name with its target (`[p linux/amd64 2/3] RUN …`, `[c 1/2] RUN …`, `[p internal] …`).
 * The same digest can show under several targets: a child reports its parent's steps under its own prefix, and
 * BuildKit shares identical vertexes between sessions (even lending one session's name to another). So every
 * (digest, bake target) pair is kept apart, and a pair is dropped when an ancestor target also reported the digest.
 */
import type { Platform } from '../config/model.js';
import { isUserStep } from '../engine/build.js';
import type { Emit, TargetResult } from './events.js';

export interface BakeTargetInfo {
  bakeName: string;
  flavor: string;
  /** The image's id in the plan when it is not the flavor (several lineups: `ascend:featured/base`). */
  key?: string;
  platforms: Platform[];
  /** The parent's bakeName (bake `contexts` target:<parent>). */
  parent?: string;
  /** Per-arch tag by platform, copied into TargetResult.tag. */
  tags?: Record<string, string>;
}

export interface BakeOutcome {
  ok: boolean;
  cancelled: boolean;
}

export interface BakeProgress {
  /** Feeds one stderr line; lines that are not progress JSON go on as logs of target `bake`. */
  line(text: string): void;
  /** Ends every target (emits target-end once each) and returns their results, in the order given. */
  finish(outcome: BakeOutcome): TargetResult[];
}

/** Log lines kept per target for a failure report. */
const TAIL = 15;

/** One vertex as one bake target reported it. */
interface Seen {
  name: string; // without the bake prefix: `[2/3] RUN …`, `[internal] load …`
  platform?: string; // from the name, when it carries one
  cached: boolean;
  started?: number; // earliest start (BuildKit restarts vertexes; the first start counts)
  completed?: number; // latest completion
  done: boolean; // completed, and not restarted since
  error?: string;
}

interface Unit {
  id: string;
  info: BakeTargetInfo;
  platform: Platform;
  startEmitted: boolean;
  tail: string[];
}

const PLATFORM = /^[a-z][a-z0-9]*\/[\w.-]+(?:\/[\w.-]+)?$/;
const CANCELLED = /context canceled/;

/** `[p linux/amd64 2/3] RUN x` → { bake: 'p', platform: 'linux/amd64', name: '[2/3] RUN x' } (bake unchecked). */
export function splitBakeName(full: string): { bake: string; platform?: string; name: string } | undefined {
  const m = /^\[([^\]\s]+)((?: [^\]\s]+)*)\] ?([\s\S]*)$/.exec(full);
  if (!m) return undefined;
  const words = m[2]!.split(' ').filter(Boolean);
  const platform = words[0] && PLATFORM.test(words[0]) ? words.shift() : undefined;
  return { bake: m[1]!, ...(platform ? { platform } : {}), name: words.length ? `[${words.join(' ')}] ${m[3]}` : m[3]! };
}

const time = (s: unknown): number | undefined => {
  const t = typeof s === 'string' ? Date.parse(s) : NaN;
  // Go's zero time (year 1) is "not set"
  return Number.isFinite(t) && t > 0 ? t : undefined;
};

const decode = (b64: unknown): string => (typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('utf8') : '');

export function bakeProgress(targets: BakeTargetInfo[], emit: Emit, now: () => number = Date.now): BakeProgress {
  const byName = new Map(targets.map((t) => [t.bakeName, t]));
  const units = new Map<string, Unit>(); // key `${bakeName} ${platform}`
  for (const info of targets) for (const platform of info.platforms) units.set(`${info.bakeName} ${platform}`, { id: `${info.key ?? info.flavor}@${platform}`, info, platform, startEmitted: false, tail: [] });
  const vertexes = new Map<string, Map<string, Seen>>(); // digest → bakeName → what that target saw
  const digestPlatform = new Map<string, string>(); // a vertex's platform is part of its digest: learnt once, valid for all
  const bakeTail: string[] = []; // bake's own text (the Dockerfile excerpt, `ERROR: …`)
  let results: TargetResult[] | undefined;

  const isAncestor = (maybe: string, of: string): boolean => {
    const seen = new Set<string>();
    for (let p = byName.get(of)?.parent; p && !seen.has(p); p = byName.get(p)?.parent) {
      if (p === maybe) return true;
      seen.add(p);
    }
    return false;
  };
  // a parent's step reported under the child's prefix is the parent's
  const owned = (digest: string, bake: string): boolean => ![...(vertexes.get(digest)?.keys() ?? [])].some((b) => isAncestor(b, bake));

  const unitsOf = (digest: string, bake: string, seen: Seen): Unit[] => {
    const info = byName.get(bake)!;
    const platform = seen.platform ?? digestPlatform.get(digest);
    // no platform anywhere: a platform-independent vertex (the Dockerfile, .dockerignore), shared by all of them
    const platforms = platform ? [platform] : info.platforms;
    return platforms.map((p) => units.get(`${bake} ${p}`)).filter((u): u is Unit => Boolean(u));
  };
  const ownersOf = (digest: string): Unit[] =>
    [...(vertexes.get(digest) ?? new Map<string, Seen>())].filter(([bake]) => owned(digest, bake)).flatMap(([bake, seen]) => unitsOf(digest, bake, seen));

  const log = (targetsOf: Unit[], text: string) => {
    for (const line of text.split('\n').map((l) => l.trimEnd())) {
      if (!line.trim()) continue;
      if (!targetsOf.length) emit({ type: 'log', target: 'bake', line });
      for (const u of targetsOf) {
        u.tail.push(line);
        if (u.tail.length > TAIL) u.tail.shift();
        emit({ type: 'log', target: u.id, line });
      }
    }
  };

  const vertex = (v: any) => {
    if (!v || typeof v.digest !== 'string' || typeof v.name !== 'string') return;
    // bake prefixes names with the target only when it builds more than one (buildx progress.WithPrefix)
    const only = targets.length === 1 ? targets[0]!.bakeName : undefined;
    const split = splitBakeName(only && v.name.startsWith('[') && !v.name.startsWith(`[${only} `) && !v.name.startsWith(`[${only}]`) ? `[${only} ${v.name.slice(1)}` : v.name);
    if (!split || !byName.has(split.bake)) return; // bake's own vertexes ([internal] load local bake definitions)
    const info = byName.get(split.bake)!;
    // a single-platform target names no platform; its [internal] loads (Dockerfile, .dockerignore) have none
    const platform = split.platform ?? (info.platforms.length === 1 && !split.name.startsWith('[internal]') ? info.platforms[0] : undefined);
    if (platform) digestPlatform.set(v.digest, platform);
    let perBake = vertexes.get(v.digest);
    if (!perBake) vertexes.set(v.digest, (perBake = new Map()));
    const prev = perBake.get(split.bake);
    const started = time(v.started);
    const completed = time(v.completed);
    const seen: Seen = {
      name: split.name,
      ...(split.platform ?? prev?.platform ? { platform: split.platform ?? prev?.platform } : {}),
      cached: Boolean(prev?.cached || v.cached),
      ...(prev?.started !== undefined || started !== undefined ? { started: Math.min(prev?.started ?? Infinity, started ?? Infinity) } : {}),
      ...(prev?.completed !== undefined || completed !== undefined ? { completed: Math.max(prev?.completed ?? -Infinity, completed ?? -Infinity) } : {}),
      done: completed !== undefined ? true : started !== undefined ? false : Boolean(prev?.done),
      ...(typeof v.error === 'string' && v.error ? { error: v.error } : prev?.error ? { error: prev.error } : {}),
    };
    perBake.set(split.bake, seen);
    // the parent reports its own steps; a vertex only listed (not started) is not news for a display
    if (!owned(v.digest, split.bake) || seen.started === undefined) return;
    for (const u of unitsOf(v.digest, split.bake, seen)) {
      if (!u.startEmitted) {
        u.startEmitted = true;
        emit({ type: 'target-start', target: u.id });
      }
      emit({ type: 'step', target: u.id, name: seen.name, cached: seen.cached, completed: seen.done });
    }
  };

  const line = (text: string) => {
    if (!text.trim()) return;
    let status: any;
    try {
      status = JSON.parse(text);
    } catch {
      status = undefined;
    }
    if (!status || typeof status !== 'object' || Array.isArray(status)) {
      bakeTail.push(text.trimEnd());
      if (bakeTail.length > TAIL) bakeTail.shift();
      emit({ type: 'log', target: 'bake', line: text.trimEnd() });
      return;
    }
    for (const v of Array.isArray(status.vertexes) ? status.vertexes : []) vertex(v);
    for (const l of Array.isArray(status.logs) ? status.logs : []) if (l && typeof l.vertex === 'string') log(ownersOf(l.vertex), decode(l.data));
    for (const w of Array.isArray(status.warnings) ? status.warnings : []) if (w && typeof w.vertex === 'string') log(ownersOf(w.vertex), `warning: ${decode(w.short)}`);
  };

  const finish = (outcome: BakeOutcome): TargetResult[] => {
    if (results) return results;
    // what each unit owns over the whole run (a digest may have shown up under a parent after the child)
    const own = new Map<Unit, Seen[]>([...units.values()].map((u) => [u, []]));
    for (const [digest, perBake] of vertexes) {
      for (const [bake, seen] of perBake) if (owned(digest, bake)) for (const u of unitsOf(digest, bake, seen)) own.get(u)!.push(seen);
    }
    const failureOf = (u: Unit) => own.get(u)!.find((s) => s.error && !CANCELLED.test(s.error));
    const anyFailed = [...units.values()].some((u) => failureOf(u));
    const bakeError = [...bakeTail].reverse().find((l) => l.startsWith('ERROR:'));
    const ended = new Map<Unit, { r: TargetResult; reason?: string }>();

    const end = (u: Unit): { r: TargetResult; reason?: string } => {
      const hit = ended.get(u);
      if (hit) return hit;
      // in the order they ran (digests arrive in graph order, last step first)
      const seen = own.get(u)!.sort((a, b) => (a.started ?? Infinity) - (b.started ?? Infinity));
      const user = seen.filter((s) => isUserStep(s.name));
      // a step that never started was not run (its result came from the cache)
      const ran = user.filter((s) => s.started !== undefined && !s.cached);
      const starts = seen.flatMap((s) => (s.started !== undefined ? [s.started] : []));
      // durations from the vertexes' own clocks, not the whole bake's; one still running at the end runs until now
      const ends = seen.flatMap((s) => (s.done && s.completed !== undefined ? [s.completed] : s.started !== undefined ? [now()] : []));
      const durationMs = starts.length && ends.length ? Math.max(0, Math.round(Math.max(...ends) - Math.min(...starts))) : 0;
      const base = { id: u.id, flavor: u.info.flavor, platform: u.platform, tag: u.info.tags?.[u.platform] ?? '', durationMs };
      const counts = { executed: ran.length, cachedSteps: user.length - ran.length, ran: ran.map((s) => s.name) };
      const failure = failureOf(u);
      // BuildKit lists a target's whole graph once its Dockerfile is read, so all own steps done: the target is done
      const complete = user.length > 0 && seen.every((s) => !s.error && (s.done || s.started === undefined)) && user.every((s) => s.done);
      let out: { r: TargetResult; reason?: string };
      if (!outcome.ok && failure) out = { r: { ...base, status: 'failed', ...counts, error: failure.error!, log: [...u.tail] } };
      else if (outcome.ok || complete) out = { r: { ...base, status: counts.executed ? 'built' : 'cached', ...counts } };
      else if (outcome.cancelled) out = { r: { ...base, status: 'cancelled', error: 'cancelled' }, reason: 'cancelled' };
      else {
        const parentInfo = u.info.parent ? byName.get(u.info.parent) : undefined;
        const parentUnit = parentInfo && units.get(`${parentInfo.bakeName} ${u.platform}`);
        const parent = parentUnit ? end(parentUnit).r : undefined;
        if (parent?.status === 'failed' || parent?.status === 'skipped') {
          const reason = `its parent ${parent.id} ${parent.status}`;
          out = { r: { ...base, status: 'skipped', error: reason }, reason };
        } else if (anyFailed) {
          // bake stops every target once one fails, like the docker driver's --fail-fast
          const reason = 'stopped: another target failed';
          out = { r: { ...base, status: 'cancelled', error: reason }, reason };
        } else {
          // no vertex says why (bake itself failed): its own `ERROR:` line does
          out = { r: { ...base, status: 'failed', error: bakeError ?? 'bake stopped before this target finished', log: [...(u.tail.length ? u.tail : bakeTail)] } };
        }
      }
      ended.set(u, out);
      return out;
    };

    results = [...units.values()].map((u) => {
      const { r, reason } = end(u);
      if (!u.startEmitted && (r.status === 'built' || r.status === 'cached' || r.status === 'failed')) emit({ type: 'target-start', target: u.id });
      const { id: _id, flavor: _f, platform: _p, tag: _t, ...rest } = r;
      emit({ type: 'target-end', target: u.id, ...rest, ...(reason ? { reason } : {}) });
      return r;
    });
    return results;
  };

  return { line, finish };
}
