/**
 * What the bake progress reader has learnt so far, and who owns which vertex. Shared by the line reader
 * (bake-progress.ts) and the end-of-run accounting (bake-outcome.ts).
 */
import type { Platform } from '../config/model.js';
import type { BakeTargetInfo } from './bake-progress.js';
import type { Emit } from './events.js';

/** Log lines kept per target for a failure report. */
export const TAIL = 15;

/** One vertex as one bake target reported it. */
export interface Seen {
  name: string; // without the bake prefix: `[2/3] RUN …`, `[internal] load …`
  platform?: string; // from the name, when it carries one
  cached: boolean;
  started?: number; // earliest start (BuildKit restarts vertexes; the first start counts)
  completed?: number; // latest completion
  done: boolean; // completed, and not restarted since
  error?: string;
}

/** One target on one platform: `<flavor>@<platform>`. */
export interface Unit {
  id: string;
  info: BakeTargetInfo;
  platform: Platform;
  startEmitted: boolean;
  tail: string[];
}

export interface BakeState {
  targets: BakeTargetInfo[];
  emit: Emit;
  byName: Map<string, BakeTargetInfo>;
  units: Map<string, Unit>; // key unitKey(bakeName, platform)
  vertexes: Map<string, Map<string, Seen>>; // digest → bakeName → what that target saw
  digestPlatform: Map<string, string>; // a vertex's platform is part of its digest: learnt once, valid for all
  bakeTail: string[]; // bake's own text (the Dockerfile excerpt, `ERROR: …`)
}

export const unitKey = (bakeName: string, platform: string): string => `${bakeName} ${platform}`;

export function newBakeState(targets: BakeTargetInfo[], emit: Emit): BakeState {
  const byName = new Map(targets.map((t) => [t.bakeName, t]));
  const units = new Map<string, Unit>();
  for (const info of targets) {
    for (const platform of info.platforms)
      units.set(unitKey(info.bakeName, platform), {
        id: `${info.key ?? info.flavor}@${platform}`,
        info,
        platform,
        startEmitted: false,
        tail: [],
      });
  }
  return { targets, emit, byName, units, vertexes: new Map(), digestPlatform: new Map(), bakeTail: [] };
}

/** Appends a line, keeping the last TAIL. */
export function pushTail(tail: string[], line: string): void {
  tail.push(line);
  if (tail.length > TAIL) tail.shift();
}

function isAncestor(s: BakeState, maybe: string, of: string): boolean {
  const seen = new Set<string>();
  for (let p = s.byName.get(of)?.parent; p && !seen.has(p); p = s.byName.get(p)?.parent) {
    if (p === maybe) return true;
    seen.add(p);
  }
  return false;
}

/** A parent's step reported under the child's prefix is the parent's. */
export function owned(s: BakeState, digest: string, bake: string): boolean {
  return ![...(s.vertexes.get(digest)?.keys() ?? [])].some((b) => isAncestor(s, b, bake));
}

export function unitsOf(s: BakeState, digest: string, bake: string, seen: Seen): Unit[] {
  const info = s.byName.get(bake)!;
  const platform = seen.platform ?? s.digestPlatform.get(digest);
  // no platform anywhere: a platform-independent vertex (the Dockerfile, .dockerignore), shared by all of them
  const platforms = platform ? [platform] : info.platforms;
  return platforms.map((p) => s.units.get(unitKey(bake, p))).filter((u): u is Unit => Boolean(u));
}

export function ownersOf(s: BakeState, digest: string): Unit[] {
  return [...(s.vertexes.get(digest) ?? new Map<string, Seen>())]
    .filter(([bake]) => owned(s, digest, bake))
    .flatMap(([bake, seen]) => unitsOf(s, digest, bake, seen));
}
