/**
 * Which ready target a driver starts first: the one heading the longest remaining chain of work (list scheduling
 * by critical path). With two jobs on a machine that emulates arm64, an arm64 build takes about 8× its amd64 twin;
 * starting it after the quick amd64 builds adds their time to the whole run.
 *
 * Costs come from the last full build of each target when one is recorded (.idekube/cache/build-times.json),
 * else from a guess: one unit per layer with a script, times 8 when the platform is emulated.
 */
import { HOST_ARCH, archOf, type Arch, type Platform } from '../config/platform.js';
import type { Project } from '../config/project.js';
import type { Plan, PlanTarget } from './types.js';

/** How much slower an emulated (binfmt/QEMU user-mode) build runs than a native one, as measured here: ≈ 8×. */
export const EMULATION_FACTOR = 8;

export interface CostInputs {
  /** The architecture builds run natively on (the engine's); others are emulated. */
  nativeArchs: Set<Arch>;
  /** Wall time of each target's last full build, ms. */
  history: Record<string, number>;
}

/** Estimated cost of each target (ms when recorded, else relative units scaled to ms). */
export function estimateCosts(project: Project, plan: Plan, inputs: CostInputs): Map<string, number> {
  const UNIT_MS = 20_000;
  const costs = new Map<string, number>();
  for (const t of plan.targets) {
    const recorded = inputs.history[t.id];
    if (recorded !== undefined) {
      costs.set(t.id, recorded);
      continue;
    }
    const flavor = project.catalog.flavors.get(t.flavor)!;
    const scripts = flavor.layers.filter((name) => project.catalog.layers.get(name)?.run !== undefined).length;
    costs.set(t.id, (1 + scripts) * UNIT_MS * (inputs.nativeArchs.has(t.arch) ? 1 : EMULATION_FACTOR));
  }
  return costs;
}

/**
 * Priority of each target: its own cost plus the costliest chain of targets built FROM it. Targets come parents
 * first, so one pass from the end sees every child before its parent: no recursion (a chain may be thousands deep).
 */
export function criticalPath(targets: PlanTarget[], costs: Map<string, number>): Map<string, number> {
  const longestBelow = new Map<string, number>();
  const priority = new Map<string, number>();
  for (let i = targets.length - 1; i >= 0; i--) {
    const t = targets[i]!;
    const p = (costs.get(t.id) ?? 0) + (longestBelow.get(t.id) ?? 0);
    priority.set(t.id, p);
    for (const d of t.dependsOn) longestBelow.set(d, Math.max(longestBelow.get(d) ?? 0, p));
  }
  // insertion order as before: plan order
  return new Map(targets.map((t) => [t.id, priority.get(t.id)!]));
}

/**
 * Architectures built natively: the host's (none when it is neither amd64 nor arm64), and those given an engine of
 * their own (`--engine linux/arm64=…`).
 */
export function nativeArchs(engines: Partial<Record<Platform, string>>, host: Arch | null = HOST_ARCH ?? null): Set<Arch> {
  const own = (Object.keys(engines) as Platform[]).map(archOf);
  return new Set([...(host ? [host] : []), ...own]);
}
