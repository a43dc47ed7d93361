/**
 * The Docker Engine driver (no buildx): BuildKit builds through dockerode, one per target and platform (arm64 via
 * binfmt emulation, or a native engine per platform), per-arch tags, pushes, then a guarded manifest list per image.
 *
 *   runScheduled (plan/scheduler.ts) → buildTarget (docker-build.ts) per target → once an image's targets are all
 *   done: publishImage (docker-publish.ts), or only the beforePublish hook without push.
 */
import type { Platform } from '../config/model.js';
import { runScheduled, type SkipReason } from '../plan/scheduler.js';
import type { Plan, PlanImage, PlanTarget } from '../plan/types.js';
import { buildTarget, type TargetOutcome } from './docker-build.js';
import { EnginePool } from './docker-engines.js';
import { publishImage } from './docker-publish.js';
import type { Emit, ImageResult, RunResult, TargetResult } from './events.js';

export interface DockerRunOptions {
  jobs: number;
  failFast: boolean;
  /** An engine per platform (`linux/arm64=ssh://arm-host`); others use DOCKER_HOST / the local socket. */
  engines: Partial<Record<Platform, string>>;
  signal: AbortSignal;
  emit: Emit;
  noCache?: boolean;
  /**
   * Runs before an image's per-arch tags are pushed (e.g. `idekube test`); throwing stops that image. Without push
   * it runs once the image is built, and throwing marks the image failed.
   */
  beforePublish?: (image: PlanImage, targets: TargetResult[]) => Promise<void>;
  /** Higher starts first among ready targets (see plan/schedule.ts); plan order breaks ties. */
  priority?: Map<string, number>;
}

export async function runDockerPlan(plan: Plan, opts: DockerRunOptions): Promise<RunResult> {
  const started = Date.now();
  const engines = new EnginePool(opts.engines);
  // Connect up front: a missing daemon is one clear error before anything runs.
  for (const p of new Set(plan.targets.map((t) => t.platform))) await engines.engine(p);
  opts.emit({ type: 'plan', targets: plan.targets.length, images: plan.images.length, driver: 'docker' });

  const inner = new AbortController();
  const onAbort = () => inner.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const run = new DockerRun(plan, opts, engines, inner);
  try {
    await runScheduled(plan.targets, {
      jobs: opts.jobs,
      signal: inner.signal,
      priority: (id) => opts.priority?.get(id) ?? 0,
      run: (t) => run.build(t),
      outcome: (id) => run.succeeded(id),
      skip: (t, why) => run.skip(t, why),
    });
    await Promise.all(run.publishing);
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  return {
    targets: plan.targets.map((t) => run.targetResult(t)),
    images: plan.images.map((i) => run.imageResult(i)),
    cancelled: opts.signal.aborted,
    durationMs: Date.now() - started,
  };
}

const isOk = (r: TargetResult) => r.status === 'built' || r.status === 'cached';

/** The state of one run: target and image results, and the publishing under way. */
class DockerRun {
  readonly publishing: Array<Promise<void>> = [];
  private readonly results = new Map<string, TargetResult>();
  private readonly images = new Map<PlanImage, ImageResult>();
  // by target id: with several lineups in one plan a flavor has several images
  private readonly imageOf: Map<string, PlanImage>;

  constructor(
    private readonly plan: Plan,
    private readonly opts: DockerRunOptions,
    private readonly engines: EnginePool,
    private readonly inner: AbortController,
  ) {
    this.imageOf = new Map(plan.images.flatMap((i) => i.targets.map((id) => [id, i] as const)));
  }

  succeeded(id: string): boolean | undefined {
    const r = this.results.get(id);
    return r && isOk(r);
  }

  async build(t: PlanTarget): Promise<void> {
    const { opts, inner, plan, engines } = this;
    opts.emit({ type: 'target-start', target: t.id });
    const r = await buildTarget(t, [t.tag, ...this.localAlias(t)], {
      plan,
      engines,
      emit: opts.emit,
      signal: inner.signal,
      ...(opts.noCache ? { noCache: true } : {}),
    });
    this.finish(t, r);
    if (r.status !== 'built' && r.status !== 'cached' && opts.failFast) inner.abort();
  }

  skip(t: PlanTarget, why: SkipReason): void {
    // a plan where nothing can progress (should not happen): ends like a target, the reason as its error
    if (why.kind === 'stuck') {
      this.finish(t, { status: 'skipped', durationMs: 0, error: 'dependencies never finished' });
      return;
    }
    const status = why.kind === 'cancelled' ? 'cancelled' : 'skipped';
    const reason = why.kind === 'cancelled' ? 'cancelled' : `its parent ${why.dependency} ${this.results.get(why.dependency)?.status}`;
    this.results.set(t.id, { id: t.id, flavor: t.flavor, platform: t.platform, tag: t.tag, status, durationMs: 0, error: reason });
    this.opts.emit({ type: 'target-end', target: t.id, status, durationMs: 0, reason });
    this.imageDone(this.imageOfTarget(t.id));
  }

  targetResult(t: PlanTarget): TargetResult {
    const r = this.results.get(t.id);
    if (!r) throw new Error(`internal: no result for ${t.id}`);
    return r;
  }

  imageResult(i: PlanImage): ImageResult {
    return this.images.get(i) ?? { flavor: i.flavor, ref: i.ref, status: 'skipped', platforms: i.platforms, aliases: i.aliases };
  }

  private finish(t: PlanTarget, r: TargetOutcome): void {
    this.results.set(t.id, { id: t.id, flavor: t.flavor, platform: t.platform, tag: t.tag, ...r });
    this.opts.emit({ type: 'target-end', target: t.id, ...r });
    this.imageDone(this.imageOfTarget(t.id));
  }

  private imageOfTarget(id: string): PlanImage {
    const image = this.imageOf.get(id);
    if (!image) throw new Error(`internal: target ${id} belongs to no image`);
    return image;
  }

  // A local single-platform build also answers to the image's plain reference, so `docker run <ref>` works as
  // after `make build` (a push writes that reference as the manifest list instead).
  private localAlias(t: PlanTarget): string[] {
    const image = this.imageOfTarget(t.id);
    return !this.plan.push && image.targets.length === 1 ? [image.ref] : [];
  }

  /** Once every target of `image` has ended: publish it (or only check it, without push), or say why not. */
  private imageDone(image: PlanImage): void {
    if (this.images.has(image)) return;
    const targets: TargetResult[] = [];
    for (const id of image.targets) {
      const r = this.results.get(id);
      if (!r) return;
      targets.push(r);
    }
    const { flavor, ref, platforms, aliases } = image;
    if (!targets.every(isOk)) {
      const why = targets
        .filter((r) => !isOk(r))
        .map((r) => `${r.platform} ${r.status}`)
        .join(', ');
      this.images.set(image, {
        flavor,
        ref,
        status: targets.some((r) => r.status === 'failed') ? 'failed' : 'skipped',
        platforms,
        aliases,
        reason: why,
      });
      if (this.plan.push) this.opts.emit({ type: 'list', ref, status: 'skipped', reason: `not published: ${why}` });
      return;
    }
    const result: ImageResult = { flavor, ref, status: 'built', platforms, aliases };
    this.images.set(image, result);
    if (this.plan.push) this.publishing.push(this.publish(image, targets, result));
    else if (this.opts.beforePublish) this.publishing.push(this.checkOnly(this.opts.beforePublish, image, targets, result));
  }

  private async publish(image: PlanImage, targets: TargetResult[], result: ImageResult): Promise<void> {
    const { opts, plan, engines, inner } = this;
    try {
      await publishImage(image, targets, result, {
        plan,
        engines,
        emit: opts.emit,
        signal: inner.signal,
        ...(opts.beforePublish ? { beforePublish: opts.beforePublish } : {}),
      });
    } catch (e) {
      Object.assign(result, { status: 'failed', reason: (e as Error).message });
      opts.emit({ type: 'list', ref: image.ref, status: 'failed', reason: (e as Error).message });
      if (opts.failFast) inner.abort();
    }
  }

  // a build without push still runs the hook (`idekube build --test`): a failure marks the image failed
  private async checkOnly(
    hook: NonNullable<DockerRunOptions['beforePublish']>,
    image: PlanImage,
    targets: TargetResult[],
    result: ImageResult,
  ): Promise<void> {
    try {
      await hook(image, targets);
    } catch (e) {
      Object.assign(result, { status: 'failed', reason: (e as Error).message });
      if (this.opts.failFast) this.inner.abort();
    }
  }
}
