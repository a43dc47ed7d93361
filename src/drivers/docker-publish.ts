/** The publish step of the docker driver: an image's per-arch tags pushed, then its manifest list written. */
import { RunError } from '../config/errors.js';
import type { Platform } from '../config/model.js';
import { pushTag } from '../engine/push.js';
import type { Plan, PlanImage } from '../plan/types.js';
import { RegistryClient } from '../registry/client.js';
import { publishList } from '../registry/manifest-list.js';
import { parseRef } from '../config/image-ref.js';
import type { EnginePool } from './docker-engines.js';
import type { Emit, ImageResult, TargetResult } from './events.js';

export interface PublishContext {
  plan: Plan;
  engines: EnginePool;
  emit: Emit;
  signal: AbortSignal;
  /** Runs before the per-arch tags are pushed; throwing stops the image. */
  beforePublish?: (image: PlanImage, targets: TargetResult[]) => Promise<void>;
}

/**
 * Publishes a built image and records the outcome in `result` (published, or per-arch tags only with --arch-only).
 * Throws on the first failure, `result` untouched.
 */
export async function publishImage(image: PlanImage, targets: TargetResult[], result: ImageResult, ctx: PublishContext): Promise<void> {
  if (ctx.beforePublish) await ctx.beforePublish(image, targets);
  await pushTargets(targets, ctx);
  if (ctx.plan.archOnly) {
    Object.assign(result, { status: 'published', reason: 'per-arch tags only (--arch-only)' });
    ctx.emit({ type: 'list', ref: image.ref, status: 'skipped', reason: 'per-arch tags pushed; run idekube manifest to write the list' });
    return;
  }
  if (ctx.signal.aborted) throw new RunError('cancelled before the manifest list');
  const { registry } = parseRef(image.ref);
  const list = await publishList(
    new RegistryClient(registry, { signal: ctx.signal }),
    image.ref,
    targets.map((t) => ({ platform: t.platform, ref: t.tag })),
    {
      extraTags: image.aliases.map((a) => parseRef(a).reference),
    },
  );
  Object.assign(result, { status: 'published', digest: list.digest });
  ctx.emit({ type: 'list', ref: image.ref, status: 'done', digest: list.digest, platforms: image.platforms });
}

/** Pushes each per-arch tag (recording its digest on the target), and copies it to the cache tag when there is one. */
async function pushTargets(targets: TargetResult[], ctx: PublishContext): Promise<void> {
  const cacheTo = new Map(ctx.plan.targets.map((t) => [t.id, t.cacheTo]));
  for (const t of targets) {
    if (ctx.signal.aborted) throw new RunError('cancelled before pushing');
    ctx.emit({ type: 'push', ref: t.tag, status: 'start' });
    const engine = await ctx.engines.engine(t.platform as Platform);
    t.digest = await pushTag(engine, t.tag, { signal: ctx.signal });
    ctx.emit({ type: 'push', ref: t.tag, status: 'done', digest: t.digest });
    const to = cacheTo.get(t.id);
    if (to) await copyTag(t.tag, to, ctx.signal);
  }
}

/** The same manifest under another tag of its repository (the registry cache of the docker driver: inline cache). */
async function copyTag(from: string, to: string, signal: AbortSignal): Promise<void> {
  const src = parseRef(from);
  const dst = parseRef(to);
  const client = new RegistryClient(src.registry, { signal });
  const m = await client.getManifest(src.repository, src.reference);
  if (!m) throw new RunError(`${from} is not in the registry after pushing it`);
  await client.putManifest(dst.repository, dst.reference, m.mediaType, m.body);
}
