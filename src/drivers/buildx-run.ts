/** Executes a plan with `docker buildx bake` (execa, argv array, never a shell string), then verifies pushes. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RunError } from '../config/errors.js';
import { RegistryClient } from '../registry/client.js';
import { verifyList } from '../registry/manifest-list.js';
import { parseRef } from '../registry/types.js';
import type { Plan } from '../plan/types.js';
import { bakeArgv, bakeFile, targetName, type BakeOptions } from './buildx.js';
import type { Emit, RunResult } from './events.js';

export async function runBuildxPlan(plan: Plan, opts: BakeOptions & { signal: AbortSignal; emit: Emit }): Promise<RunResult> {
  const { execa } = await import('execa');
  const started = Date.now();
  mkdirSync(dirname(resolve(plan.root, opts.bakeFile)), { recursive: true });
  writeFileSync(resolve(plan.root, opts.bakeFile), `${JSON.stringify(bakeFile(plan, opts), null, 2)}\n`);
  opts.emit({ type: 'plan', targets: plan.targets.length, images: plan.images.length, driver: 'buildx' });
  const proc = execa('docker', bakeArgv(plan, opts), { cwd: plan.root, cancelSignal: opts.signal, reject: false, all: true, forceKillAfterDelay: 5000 });
  proc.all?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) opts.emit({ type: 'log', target: 'bake', line });
  });
  const r = await proc;
  const ok = r.exitCode === 0;
  let meta: Record<string, Record<string, string>> = {};
  try {
    meta = JSON.parse(readFileSync(resolve(plan.root, opts.metadataFile), 'utf8'));
  } catch {
    /* no metadata when the bake failed early */
  }
  const images = [];
  for (const image of plan.images) {
    const digest = meta[targetName(image.flavor)]?.['containerimage.digest'];
    if (ok && plan.push) {
      const { registry } = parseRef(image.ref);
      await verifyList(new RegistryClient(registry), image.ref, image.platforms);
      opts.emit({ type: 'list', ref: image.ref, status: 'done', ...(digest ? { digest } : {}), platforms: image.platforms });
    }
    images.push({ flavor: image.flavor, ref: image.ref, status: ok ? (plan.push ? 'published' : 'built') : 'failed', ...(digest ? { digest } : {}), platforms: image.platforms, aliases: image.aliases } as const);
  }
  if (!ok && !opts.signal.aborted) {
    const tail = (r.all ?? '').split('\n').slice(-15).join('\n');
    throw new RunError(`docker buildx bake failed (exit ${r.exitCode}):\n${tail}`);
  }
  return {
    targets: plan.targets.map((t) => ({ id: t.id, flavor: t.flavor, platform: t.platform, tag: t.tag, status: ok ? 'built' : 'failed', durationMs: Date.now() - started })),
    images: images.map((i) => ({ ...i })),
    cancelled: opts.signal.aborted,
    durationMs: Date.now() - started,
  };
}
