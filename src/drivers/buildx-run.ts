/**
 * Executes a plan with `docker buildx bake` (execa, argv array, never a shell string): progress from buildx's
 * machine-readable stream per target and platform, digests from --metadata-file, then every pushed tag read back
 * from the registry and its digest compared with what bake reported.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { outputRefusal, SafeTree } from '../fs/boundary.js';
import { RunError } from '../config/errors.js';
import type { Platform } from '../config/model.js';
import { archOf } from '../config/platform.js';
import { RegistryClient } from '../registry/client.js';
import { verifyList } from '../registry/manifest-list.js';
import { parseRef } from '../config/image-ref.js';
import type { Plan, PlanImage } from '../plan/types.js';
import { bakeProgress, type BakeProgress, type BakeTargetInfo } from './bake-progress.js';
import { imageId } from '../plan/types.js';
import { bakeArgv, bakeFile, imageBakeName, type BakeOptions } from './buildx.js';
import type { Emit, ImageResult, RunResult, TargetResult } from './events.js';

type Metadata = Record<string, { 'containerimage.digest'?: string } | undefined>;

type BakeRunOptions = BakeOptions & { signal: AbortSignal; emit: Emit };

export async function runBuildxPlan(plan: Plan, opts: BakeRunOptions): Promise<RunResult> {
  const { execa } = await import('execa');
  const started = Date.now();
  const metadataPath = writeBakeFiles(plan, opts);
  opts.emit({ type: 'plan', targets: plan.targets.length, images: plan.images.length, driver: 'buildx' });

  const perArch = plan.push && plan.archOnly;
  const progress = bakeProgress(bakeTargets(plan, perArch), opts.emit);
  const { exitCode, tail } = await runBake(execa, plan, opts, progress);
  const cancelled = opts.signal.aborted;
  const ok = exitCode === 0 && !cancelled;
  const targets: TargetResult[] = progress.finish({ ok, cancelled });
  if (!ok && !cancelled) {
    const failed = targets.filter((t) => t.status === 'failed');
    const why = failed.length ? failed.map((t) => `${t.id}: ${t.error ?? 'failed'}`).join('\n') : tail.slice(-15).join('\n');
    // per-target errors are in the result; this is the summary line
    opts.emit({ type: 'note', message: `docker buildx bake failed (exit ${exitCode})${why ? `:\n${why}` : ''}` });
  }

  const meta: Metadata = ok ? readMetadata(metadataPath) : {};
  const images = await imageResults(plan, targets, { ok, cancelled, meta, perArch, emit: opts.emit });
  if (!ok && !cancelled && !targets.some((t) => t.status === 'failed')) {
    throw new RunError(`docker buildx bake failed (exit ${exitCode}):\n${tail.slice(-15).join('\n')}`);
  }
  return { targets, images, cancelled, durationMs: Date.now() - started };
}

/** Writes the bake file and clears old metadata; returns the metadata file's path. */
function writeBakeFiles(plan: Plan, opts: BakeOptions): string {
  const bakePath = resolve(plan.root, opts.bakeFile);
  const metadataPath = resolve(plan.root, opts.metadataFile);
  // both files live in the project's output folder: never written or removed through a link (src/fs/boundary.ts)
  const tree = new SafeTree(plan.root, outputRefusal(plan.root));
  tree.replace(relative(plan.root, bakePath), `${JSON.stringify(bakeFile(plan, opts), null, 2)}\n`);
  // buildx writes the metadata only on success: a file left by an earlier run must not be read as this one's
  tree.remove(relative(plan.root, metadataPath));
  return metadataPath;
}

/** The bake targets as the progress reader knows them: one per image, or one per image and arch (--arch-only). */
function bakeTargets(plan: Plan, perArch: boolean): BakeTargetInfo[] {
  const targetById = new Map(plan.targets.map((t) => [t.id, t]));
  const imageOfTarget = new Map(plan.images.flatMap((i) => i.targets.map((id) => [id, i] as const)));
  return plan.images.flatMap((image) => {
    const targets = image.targets.map((id) => targetById.get(id)!);
    const units = perArch ? targets.map((t) => [t]) : [targets];
    const parentTarget = targets[0]!.dependsOn[0];
    const parent = parentTarget ? imageOfTarget.get(parentTarget) : undefined;
    return units.map((unit) => ({
      bakeName: imageBakeName(image, perArch ? unit[0]!.arch : undefined),
      flavor: image.flavor,
      ...(image.id ? { key: imageId(image) } : {}),
      platforms: unit.map((t) => t.platform),
      tags: Object.fromEntries(unit.map((t) => [t.platform, t.tag])),
      ...(parent ? { parent: imageBakeName(parent, perArch ? unit[0]!.arch : undefined) } : {}),
    }));
  });
}

/** Runs bake, feeding its stderr to the progress reader line by line; returns its exit code and non-JSON stderr. */
async function runBake(
  execa: typeof import('execa').execa,
  plan: Plan,
  opts: BakeRunOptions,
  progress: BakeProgress,
): Promise<{ exitCode: number | undefined; tail: string[] }> {
  const proc = execa('docker', bakeArgv(plan, { ...opts, progress: 'rawjson' }), {
    cwd: plan.root,
    cancelSignal: opts.signal,
    reject: false,
    forceKillAfterDelay: 5000,
    buffer: { stdout: false, stderr: false },
  });
  const tail: string[] = [];
  let partial = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      progress.line(line);
      if (!line.startsWith('{')) tail.push(line);
    }
  });
  proc.stdout?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) opts.emit({ type: 'log', target: 'bake', line });
  });
  const r = await proc;
  if (partial) progress.line(partial);
  return { exitCode: r.exitCode, tail };
}

/** Each image's result: failed or skipped when bake failed, built, or published and read back from the registry. */
async function imageResults(
  plan: Plan,
  targets: TargetResult[],
  run: { ok: boolean; cancelled: boolean; meta: Metadata; perArch: boolean; emit: Emit },
): Promise<ImageResult[]> {
  const resultById = new Map(targets.map((t) => [t.id, t]));
  const images: ImageResult[] = [];
  for (const image of plan.images) {
    const base = { flavor: image.flavor, ref: image.ref, platforms: image.platforms, aliases: image.aliases };
    const own = image.targets.map((id) => resultById.get(id)!).filter(Boolean);
    if (!run.ok) {
      const failed = own.some((t) => t.status === 'failed');
      images.push({
        ...base,
        status: failed ? 'failed' : 'skipped',
        reason: run.cancelled ? 'cancelled' : failed ? 'build failed' : 'bake failed',
      });
      continue;
    }
    if (!plan.push) {
      images.push({ ...base, status: 'built' });
      continue;
    }
    try {
      images.push(await checkPushed(plan, image, own, run.meta, run.perArch, run.emit));
    } catch (e) {
      images.push({ ...base, status: 'failed', reason: (e as Error).message });
      run.emit({ type: 'list', ref: image.ref, status: 'failed', reason: (e as Error).message });
    }
  }
  return images;
}

function readMetadata(path: string): Metadata {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Metadata;
  } catch (e) {
    throw new RunError(`docker buildx bake succeeded but its metadata file ${path} is unreadable: ${(e as Error).message}`);
  }
}

/** Reads what bake pushed back from the registry: the list (or each per-arch tag) and its digest. */
async function checkPushed(
  _plan: Plan,
  image: PlanImage,
  targets: TargetResult[],
  meta: Metadata,
  perArch: boolean,
  emit: Emit,
): Promise<ImageResult> {
  const client = new RegistryClient(parseRef(image.ref).registry);
  const base = { flavor: image.flavor, ref: image.ref, platforms: image.platforms, aliases: image.aliases };
  if (perArch) {
    for (const t of targets) {
      const reported = meta[imageBakeName(image, archOf(t.platform as Platform))]?.['containerimage.digest'];
      const { repository, reference } = parseRef(t.tag);
      const served = await client.getManifest(repository, reference);
      if (!served) throw new RunError(`${t.tag} is not in the registry after bake pushed it`);
      if (reported && reported !== served.digest)
        throw new RunError(`${t.tag}: bake reported ${reported}, the registry serves ${served.digest}`);
      t.digest = served.digest;
      emit({ type: 'push', ref: t.tag, status: 'done', digest: served.digest });
    }
    emit({ type: 'list', ref: image.ref, status: 'skipped', reason: 'per-arch tags pushed; run idekube manifest to write the list' });
    return { ...base, status: 'published', reason: 'per-arch tags only (--arch-only)' };
  }
  const reported = meta[imageBakeName(image)]?.['containerimage.digest'];
  const list = await verifyList(client, image.ref, image.platforms);
  if (reported && reported !== list.digest)
    throw new RunError(`${image.ref}: bake reported ${reported}, the registry serves ${list.digest}`);
  for (const alias of image.aliases) {
    const { repository, reference } = parseRef(alias);
    const served = await client.getManifest(repository, reference);
    if (served?.digest !== list.digest)
      throw new RunError(`${alias} does not point at ${list.digest} after the push (${served?.digest ?? 'missing'})`);
  }
  emit({ type: 'list', ref: image.ref, status: 'done', digest: list.digest, platforms: image.platforms });
  return { ...base, status: 'published', digest: list.digest };
}
