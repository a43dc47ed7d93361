/**
 * Turns `docker buildx bake --progress rawjson` (stderr, one BuildKit SolveStatus per line) into idekube's build
 * events per target id `<flavor>@<platform>`, the way the docker driver reports them. Pure: no I/O, no engine.
 *
 * Bake prefixes each vertex name with its target (`[p linux/amd64 2/3] RUN …`, `[c 1/2] RUN …`, `[p internal] …`).
 * The same digest can show under several targets: a child reports its parent's steps under its own prefix, and
 * BuildKit shares identical vertexes between sessions (even lending one session's name to another). So every
 * (digest, bake target) pair is kept apart, and a pair is dropped when an ancestor target also reported the digest.
 */
import { isRecord } from '../config/guards.js';
import type { Platform } from '../config/model.js';
import { finishBake } from './bake-outcome.js';
import { newBakeState, owned, ownersOf, pushTail, unitsOf, type BakeState, type Seen, type Unit } from './bake-state.js';
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

const PLATFORM = /^[a-z][a-z0-9]*\/[\w.-]+(?:\/[\w.-]+)?$/;

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
  const state = newBakeState(targets, emit);
  let results: TargetResult[] | undefined;
  return {
    line: (text) => readLine(state, text),
    finish: (outcome) => (results ??= finishBake(state, outcome, now)),
  };
}

function readLine(s: BakeState, text: string): void {
  if (!text.trim()) return;
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch {
    status = undefined;
  }
  if (!isRecord(status) || Array.isArray(status)) {
    pushTail(s.bakeTail, text.trimEnd());
    s.emit({ type: 'log', target: 'bake', line: text.trimEnd() });
    return;
  }
  for (const v of Array.isArray(status.vertexes) ? status.vertexes : []) readVertex(s, v);
  for (const l of Array.isArray(status.logs) ? status.logs : [])
    if (l && typeof l.vertex === 'string') log(s, ownersOf(s, l.vertex), decode(l.data));
  for (const w of Array.isArray(status.warnings) ? status.warnings : [])
    if (w && typeof w.vertex === 'string') log(s, ownersOf(s, w.vertex), `warning: ${decode(w.short)}`);
}

function log(s: BakeState, targetsOf: Unit[], text: string): void {
  for (const line of text.split('\n').map((l) => l.trimEnd())) {
    if (!line.trim()) continue;
    if (!targetsOf.length) s.emit({ type: 'log', target: 'bake', line });
    for (const u of targetsOf) {
      pushTail(u.tail, line);
      s.emit({ type: 'log', target: u.id, line });
    }
  }
}

function readVertex(s: BakeState, v: unknown): void {
  if (!isRecord(v) || typeof v.digest !== 'string' || typeof v.name !== 'string') return;
  const split = splitBakeName(withPrefix(s.targets, v.name));
  if (!split || !s.byName.has(split.bake)) return; // bake's own vertexes ([internal] load local bake definitions)
  const info = s.byName.get(split.bake)!;
  // a single-platform target names no platform; its [internal] loads (Dockerfile, .dockerignore) have none
  const platform = split.platform ?? (info.platforms.length === 1 && !split.name.startsWith('[internal]') ? info.platforms[0] : undefined);
  if (platform) s.digestPlatform.set(v.digest, platform);
  let perBake = s.vertexes.get(v.digest);
  if (!perBake) s.vertexes.set(v.digest, (perBake = new Map()));
  const seen = mergeSeen(perBake.get(split.bake), split, v);
  perBake.set(split.bake, seen);
  // the parent reports its own steps; a vertex only listed (not started) is not news for a display
  if (!owned(s, v.digest, split.bake) || seen.started === undefined) return;
  for (const u of unitsOf(s, v.digest, split.bake, seen)) {
    if (!u.startEmitted) {
      u.startEmitted = true;
      s.emit({ type: 'target-start', target: u.id });
    }
    s.emit({ type: 'step', target: u.id, name: seen.name, cached: seen.cached, completed: seen.done });
  }
}

/** Bake prefixes names with the target only when it builds more than one (buildx progress.WithPrefix): add it back. */
function withPrefix(targets: BakeTargetInfo[], name: string): string {
  const only = targets.length === 1 ? targets[0]!.bakeName : undefined;
  return only && name.startsWith('[') && !name.startsWith(`[${only} `) && !name.startsWith(`[${only}]`)
    ? `[${only} ${name.slice(1)}`
    : name;
}

/** One more report of a vertex, on top of what this target saw of it before. */
function mergeSeen(prev: Seen | undefined, split: { platform?: string; name: string }, v: Record<string, unknown>): Seen {
  const started = time(v.started);
  const completed = time(v.completed);
  return {
    name: split.name,
    ...((split.platform ?? prev?.platform) ? { platform: split.platform ?? prev?.platform } : {}),
    cached: Boolean(prev?.cached || v.cached),
    ...(prev?.started !== undefined || started !== undefined ? { started: Math.min(prev?.started ?? Infinity, started ?? Infinity) } : {}),
    ...(prev?.completed !== undefined || completed !== undefined
      ? { completed: Math.max(prev?.completed ?? -Infinity, completed ?? -Infinity) }
      : {}),
    done: completed !== undefined ? true : started !== undefined ? false : Boolean(prev?.done),
    ...(typeof v.error === 'string' && v.error ? { error: v.error } : prev?.error ? { error: prev.error } : {}),
  };
}
