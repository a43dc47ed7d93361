/** The build step of the docker driver: one target, one BuildKit build through the Engine API. */
import { buildImage, type BuildRequest } from '../engine/build.js';
import { withProxyArgs } from '../engine/proxy-args.js';
import { EXTRA_CA_SECRET } from '../generate/extra-ca.js';
import type { Plan, PlanTarget } from '../plan/types.js';
import type { EnginePool } from './docker-engines.js';
import type { Emit, TargetResult } from './events.js';

/** A target's result less its identity (what a target-end event carries). */
export type TargetOutcome = Omit<TargetResult, 'id' | 'flavor' | 'platform' | 'tag'>;

export interface BuildStepContext {
  plan: Plan;
  engines: EnginePool;
  emit: Emit;
  signal: AbortSignal;
  noCache?: boolean;
}

/** Output lines kept for a failed target's report. */
const TAIL_LINES = 25;

/** Builds `t` under `tags`; never throws: a failure (or cancellation) is an outcome. */
export async function buildTarget(t: PlanTarget, tags: string[], ctx: BuildStepContext): Promise<TargetOutcome> {
  const t0 = Date.now();
  const tail: string[] = [];
  try {
    const engine = await ctx.engines.engine(t.platform);
    const res = await buildImage(engine, buildOptions(t, tags, tail, ctx));
    const status = res.executed.length === 0 ? 'cached' : 'built';
    return {
      status,
      durationMs: Date.now() - t0,
      imageId: res.imageId,
      executed: res.executed.length,
      cachedSteps: res.cached.length,
      ran: res.executed.map((s) => s.name),
    };
  } catch (e) {
    const cancelled = ctx.signal.aborted;
    return {
      status: cancelled ? 'cancelled' : 'failed',
      durationMs: Date.now() - t0,
      error: (e as Error).message,
      ...(cancelled ? {} : { log: [...tail] }),
    };
  }
}

function buildOptions(t: PlanTarget, tags: string[], tail: string[], ctx: BuildStepContext): BuildRequest {
  const { plan, emit } = ctx;
  const inlineCache: Record<string, string> = t.cacheFrom.length ? { BUILDKIT_INLINE_CACHE: '1' } : {};
  return {
    contextDir: t.contextDir,
    platform: t.platform,
    tags,
    buildArgs: withProxyArgs({ ...t.buildArgs, ...inlineCache }, ctx.engines.proxy(t.platform)),
    labels: t.labels,
    // --cache registry: the image pushed last time under the cache tag carries its cache inline
    ...(t.cacheFrom.length ? { cacheFrom: t.cacheFrom } : {}),
    network: plan.network,
    // always a session: the generated RUN steps mount the secret (absent when none is given)
    secrets: plan.extraCaCerts ? { [EXTRA_CA_SECRET]: plan.extraCaCerts.path } : {},
    signal: ctx.signal,
    ...(ctx.noCache ? { noCache: true } : {}),
    onStep: (s) => emit({ type: 'step', target: t.id, name: s.name, cached: s.cached, completed: s.completed }),
    onLog: (line) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      emit({ type: 'log', target: t.id, line });
    },
  };
}
