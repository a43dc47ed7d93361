/**
 * The Docker Engine driver (no buildx): BuildKit builds through dockerode, one per target and platform (arm64 via
 * binfmt emulation, or a native engine per platform), per-arch tags, pushes, then a guarded manifest list per image.
 */
import { RunError } from '../config/errors.js';
import type { Platform } from '../config/model.js';
import { buildImage } from '../engine/build.js';
import { EXTRA_CA_SECRET } from '../generate/extra-ca.js';
import { connectEngine, describeEndpoint, type Engine } from '../engine/connect.js';
import { proxyBuildArgs, withProxyArgs } from '../engine/proxy-args.js';
import { pushTag } from '../engine/push.js';
import { RegistryClient } from '../registry/client.js';
import { publishList } from '../registry/manifest-list.js';
import { parseRef } from '../registry/types.js';
import type { Plan, PlanImage, PlanTarget } from '../plan/types.js';
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

/** The same manifest under another tag of its repository (the registry cache of the docker driver: inline cache). */
async function copyTag(from: string, to: string, signal: AbortSignal): Promise<void> {
  const src = parseRef(from);
  const dst = parseRef(to);
  const client = new RegistryClient(src.registry, { signal });
  const m = await client.getManifest(src.repository, src.reference);
  if (!m) throw new RunError(`${from} is not in the registry after pushing it`);
  await client.putManifest(dst.repository, dst.reference, m.mediaType, m.body);
}

export async function runDockerPlan(plan: Plan, opts: DockerRunOptions): Promise<RunResult> {
  const started = Date.now();
  const engines = new Map<string, Engine>();
  // proxies from the Docker CLI config, per engine address, as `docker build` would pass them
  const proxies = new Map<Platform, Record<string, string>>();
  const proxyFor = (platform: Platform) => {
    if (!proxies.has(platform)) proxies.set(platform, proxyBuildArgs(describeEndpoint(opts.engines[platform])));
    return proxies.get(platform)!;
  };
  const engineFor = async (platform: Platform): Promise<Engine> => {
    const host = opts.engines[platform];
    const key = host ?? 'default';
    if (!engines.has(key)) engines.set(key, await connectEngine(host));
    return engines.get(key)!;
  };
  // Connect up front: a missing daemon is one clear error before anything runs.
  for (const p of new Set(plan.targets.map((t) => t.platform))) await engineFor(p);
  opts.emit({ type: 'plan', targets: plan.targets.length, images: plan.images.length, driver: 'docker' });

  const results = new Map<string, TargetResult>();
  const byId = new Map(plan.targets.map((t) => [t.id, t]));
  // by target id: with several lineups in one plan a flavor has several images
  const imageOfTarget = new Map(plan.images.flatMap((i) => i.targets.map((id) => [id, i] as const)));
  const rank = (id: string) => opts.priority?.get(id) ?? 0;
  // pending in start order: the longest remaining chains first (a stable sort keeps plan order among equals)
  const pending = new Set(plan.targets.map((t) => t.id).sort((a, b) => rank(b) - rank(a)));
  const running = new Map<string, Promise<void>>();
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const publishing: Array<Promise<void>> = [];
  const imageResults = new Map<PlanImage, ImageResult>();

  const finish = (t: PlanTarget, r: Omit<TargetResult, 'id' | 'flavor' | 'platform' | 'tag'>) => {
    const full: TargetResult = { id: t.id, flavor: t.flavor, platform: t.platform, tag: t.tag, ...r };
    results.set(t.id, full);
    const { id: _id, flavor: _f, platform: _p, tag: _t, ...rest } = full;
    opts.emit({ type: 'target-end', target: t.id, ...rest });
    maybePublish(imageOfTarget.get(t.id)!);
  };

  // A local single-platform build also answers to the image's plain reference, so `docker run <ref>` works as
  // after `make build` (a push writes that reference as the manifest list instead).
  const localAlias = (t: PlanTarget): string[] => {
    const image = imageOfTarget.get(t.id)!;
    return !plan.push && image.targets.length === 1 ? [image.ref] : [];
  };

  const runTarget = async (t: PlanTarget) => {
    const t0 = Date.now();
    const tail: string[] = [];
    opts.emit({ type: 'target-start', target: t.id });
    try {
      const engine = await engineFor(t.platform);
      const res = await buildImage(engine, {
        contextDir: t.contextDir,
        platform: t.platform,
        tags: [t.tag, ...localAlias(t)],
        buildArgs: withProxyArgs({ ...t.buildArgs, ...(t.cacheFrom.length ? { BUILDKIT_INLINE_CACHE: '1' } : {}) }, proxyFor(t.platform)),
        labels: t.labels,
        // --cache registry: the image pushed last time under the cache tag carries its cache inline
        ...(t.cacheFrom.length ? { cacheFrom: t.cacheFrom } : {}),
        network: plan.network,
        // always a session: the generated RUN steps mount the secret (absent when none is given)
        secrets: plan.extraCaCerts ? { [EXTRA_CA_SECRET]: plan.extraCaCerts.path } : {},
        signal: inner.signal,
        ...(opts.noCache ? { noCache: true } : {}),
        onStep: (s) => opts.emit({ type: 'step', target: t.id, name: s.name, cached: s.cached, completed: s.completed }),
        onLog: (line) => {
          tail.push(line);
          if (tail.length > 25) tail.shift();
          opts.emit({ type: 'log', target: t.id, line });
        },
      });
      const status = res.executed.length === 0 ? 'cached' : 'built';
      finish(t, { status, durationMs: Date.now() - t0, imageId: res.imageId, executed: res.executed.length, cachedSteps: res.cached.length, ran: res.executed.map((s) => s.name) });
    } catch (e) {
      const cancelled = inner.signal.aborted;
      finish(t, { status: cancelled ? 'cancelled' : 'failed', durationMs: Date.now() - t0, error: (e as Error).message, ...(cancelled ? {} : { log: [...tail] }) });
      if (opts.failFast) inner.abort();
    }
  };

  const skipDependents = () => {
    for (const id of [...pending]) {
      const t = byId.get(id)!;
      const bad = t.dependsOn.find((d) => results.has(d) && results.get(d)!.status !== 'built' && results.get(d)!.status !== 'cached');
      if (bad || inner.signal.aborted) {
        pending.delete(id);
        const reason = inner.signal.aborted ? 'cancelled' : `its parent ${bad} ${results.get(bad!)!.status}`;
        results.set(id, { id, flavor: t.flavor, platform: t.platform, tag: t.tag, status: inner.signal.aborted ? 'cancelled' : 'skipped', durationMs: 0, error: reason });
        opts.emit({ type: 'target-end', target: id, status: inner.signal.aborted ? 'cancelled' : 'skipped', durationMs: 0, reason });
        maybePublish(imageOfTarget.get(id)!);
      }
    }
  };

  const maybePublish = (image: PlanImage) => {
    const flavor = image.flavor;
    if (imageResults.has(image) || !image.targets.every((id) => results.has(id))) return;
    const targets = image.targets.map((id) => results.get(id)!);
    const ok = targets.every((r) => r.status === 'built' || r.status === 'cached');
    if (!ok) {
      const why = targets.filter((r) => r.status !== 'built' && r.status !== 'cached').map((r) => `${r.platform} ${r.status}`).join(', ');
      imageResults.set(image, { flavor, ref: image.ref, status: targets.some((r) => r.status === 'failed') ? 'failed' : 'skipped', platforms: image.platforms, aliases: image.aliases, reason: why });
      if (plan.push) opts.emit({ type: 'list', ref: image.ref, status: 'skipped', reason: `not published: ${why}` });
      return;
    }
    if (!plan.push) {
      imageResults.set(image, { flavor, ref: image.ref, status: 'built', platforms: image.platforms, aliases: image.aliases });
      if (opts.beforePublish) publishing.push(checkOnly(image, targets));
      return;
    }
    imageResults.set(image, { flavor, ref: image.ref, status: 'built', platforms: image.platforms, aliases: image.aliases });
    publishing.push(publishImage(image, targets));
  };

  // a build without push still runs the hook (`idekube build --test`): a failure marks the image failed
  const checkOnly = async (image: PlanImage, targets: TargetResult[]) => {
    try {
      await opts.beforePublish!(image, targets);
    } catch (e) {
      Object.assign(imageResults.get(image)!, { status: 'failed', reason: (e as Error).message });
      if (opts.failFast) inner.abort();
    }
  };

  const publishImage = async (image: PlanImage, targets: TargetResult[]) => {
    const result = imageResults.get(image)!;
    try {
      if (opts.beforePublish) await opts.beforePublish(image, targets);
      for (const t of targets) {
        if (inner.signal.aborted) throw new RunError('cancelled before pushing');
        opts.emit({ type: 'push', ref: t.tag, status: 'start' });
        const engine = await engineFor(t.platform as Platform);
        t.digest = await pushTag(engine, t.tag, { signal: inner.signal });
        opts.emit({ type: 'push', ref: t.tag, status: 'done', digest: t.digest });
        const cacheTo = byId.get(t.id)?.cacheTo;
        if (cacheTo) await copyTag(t.tag, cacheTo, inner.signal);
      }
      if (plan.archOnly) {
        Object.assign(result, { status: 'published', reason: 'per-arch tags only (--arch-only)' });
        opts.emit({ type: 'list', ref: image.ref, status: 'skipped', reason: 'per-arch tags pushed; run idekube manifest to write the list' });
        return;
      }
      if (inner.signal.aborted) throw new RunError('cancelled before the manifest list');
      const { registry } = parseRef(image.ref);
      const list = await publishList(new RegistryClient(registry, { signal: inner.signal }), image.ref, targets.map((t) => ({ platform: t.platform, ref: t.tag })), {
        extraTags: image.aliases.map((a) => parseRef(a).reference),
      });
      Object.assign(result, { status: 'published', digest: list.digest });
      opts.emit({ type: 'list', ref: image.ref, status: 'done', digest: list.digest, platforms: image.platforms });
    } catch (e) {
      Object.assign(result, { status: 'failed', reason: (e as Error).message });
      opts.emit({ type: 'list', ref: image.ref, status: 'failed', reason: (e as Error).message });
      if (opts.failFast) inner.abort();
    }
  };

  try {
    while (pending.size || running.size) {
      skipDependents();
      for (const id of [...pending]) {
        if (running.size >= opts.jobs || inner.signal.aborted) break;
        const t = byId.get(id)!;
        const ready = t.dependsOn.every((d) => results.get(d)?.status === 'built' || results.get(d)?.status === 'cached');
        if (!ready) continue;
        pending.delete(id);
        const p = runTarget(t).finally(() => running.delete(id));
        running.set(id, p);
      }
      if (!running.size) {
        skipDependents();
        if (pending.size && !running.size) {
          // nothing can make progress (should not happen with a valid plan)
          for (const id of pending) {
            const t = byId.get(id)!;
            finish(t, { status: 'skipped', durationMs: 0, error: 'dependencies never finished' });
          }
          pending.clear();
        }
        break;
      }
      await Promise.race(running.values());
    }
    await Promise.all(publishing);
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  return {
    targets: plan.targets.map((t) => results.get(t.id)!),
    images: plan.images.map((i) => imageResults.get(i) ?? { flavor: i.flavor, ref: i.ref, status: 'skipped', platforms: i.platforms, aliases: i.aliases }),
    cancelled: opts.signal.aborted,
    durationMs: Date.now() - started,
  };
}
