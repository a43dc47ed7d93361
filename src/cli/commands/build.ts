import { IdekubeError, RunError } from '../../config/errors.js';
import type { BuildEvent, RunResult } from '../../drivers/events.js';
import { generateFlavor } from '../../generate/flavor.js';
import { writeOutput } from '../../generate/write.js';
import { readBuildTimes, recordBuildTimes } from '../../plan/build-times.js';
import { criticalPath, estimateCosts, nativeArchs } from '../../plan/schedule.js';
import type { Plan } from '../../plan/types.js';
import { resolveBuildFlags, type BuildFlags, type RawBuildFlags } from '../build-options.js';
import { printJson, type Context } from '../context.js';
import { jsonRenderer, plainRenderer } from '../render/plain.js';
import { printSummary } from '../render/summary.js';
import { defaultOutDir } from './generate.js';
import { computePlan, printPlan } from './plan.js';

// relative to the project root, where bake runs
const BAKE_FILE = '.idekube/bake.json';
const METADATA_FILE = '.idekube/bake-metadata.json';

type Verify = typeof import('../../verify/build-hook.js');
type Project = Awaited<ReturnType<Context['project']>>;

export async function build(ctx: Context, names: string[], raw: RawBuildFlags, mode: 'build' | 'publish'): Promise<void> {
  // --test: each per-arch image is tested (idekube test) before anything of it is pushed
  // publish is build --push (so --arch-only is valid with it)
  const flags = await resolveBuildFlags(ctx, mode === 'publish' ? { ...raw, push: true } : raw);
  const verify = flags.test ? await import('../../verify/build-hook.js') : undefined;
  const { plan, parts } = await computePlan(ctx, names, flags);
  const project = await ctx.project();
  // Generate every context first: any bad input stops here, before the engine is touched. Each lineup's images
  // come from its own project (profile), into that profile's folder.
  const generated = parts.map((part) => ({
    out: defaultOutDir(part.project.root, part.project.layered.profile?.name),
    gens: plan.images.filter((i) => i.lineup === part.lineup?.name).map((i) => generateFlavor(part.project, i.flavor)),
  }));
  if (flags.dryRun) return printDryRun(ctx, plan, flags);
  for (const g of generated) writeOutput(project.root, g.out, g.gens);

  const controller = new AbortController();
  const stopSignals = cancelOnSignal(ctx, controller);
  const output = await progressOutput(ctx, plan, flags);
  for (const n of plan.notes) output.emit({ type: 'note', message: n });
  let result: RunResult;
  try {
    result = await runPlan(ctx, plan, flags, { project, verify, signal: controller.signal, emit: output.emit });
  } finally {
    stopSignals();
  }
  await output.rendered;
  if (output.progress === 'json') ctx.io.out(JSON.stringify({ time: new Date().toISOString(), type: 'result', ...result }));
  else if (ctx.opts.json) printJson(ctx.io, result);
  else if (!ctx.opts.quiet) printSummary(ctx.io, result);
  failOnResult(plan, result);
}

/** --dry-run: the plan (buildx: the bake file and argv), nothing built. */
async function printDryRun(ctx: Context, plan: Plan, flags: BuildFlags): Promise<void> {
  if (plan.driver === 'buildx') {
    const { bakeArgv, bakeFile: makeBake } = await import('../../drivers/buildx.js');
    const bake = makeBake(plan, {
      attest: flags.attest,
      ...(flags.sbomGenerator ? { sbomGenerator: flags.sbomGenerator } : {}),
      load: flags.load,
    });
    const argv = [
      'docker',
      ...bakeArgv(plan, {
        bakeFile: BAKE_FILE,
        metadataFile: METADATA_FILE,
        ...(flags.builder ? { builder: flags.builder } : {}),
        noCache: flags.noCache,
        load: flags.load,
        progress: 'rawjson',
      }),
    ];
    if (ctx.opts.json) return printJson(ctx.io, { plan, bake, argv });
    ctx.io.out(JSON.stringify(bake, null, 2));
    ctx.io.out(argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' '));
    return;
  }
  if (ctx.opts.json) return printJson(ctx.io, { plan });
  return printPlan(ctx, plan);
}

/** The first SIGINT/SIGTERM cancels the builds, the second quits at once; returns what removes the handlers. */
function cancelOnSignal(ctx: Context, controller: AbortController): () => void {
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    ctx.io.err(`idekube: ${sig}: cancelling running builds; nothing more will be pushed (press Ctrl-C again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** --progress json: events as JSON lines on stdout, ending with the result; --json alone: the result as JSON. */
async function progressOutput(
  ctx: Context,
  plan: Plan,
  flags: BuildFlags,
): Promise<{ progress: string; emit: (e: BuildEvent) => void; rendered?: Promise<void> }> {
  const progress = flags.progress === 'auto' ? (ctx.io.isTTY && !ctx.opts.json ? 'tty' : 'plain') : flags.progress;
  if (progress === 'json') return { progress, emit: jsonRenderer(ctx.io) };
  if (progress === 'tty') {
    const { ttyRenderer } = await import('../render/tty.js');
    const r = await ttyRenderer(plan);
    return { progress, emit: r.emit, rendered: r.done };
  }
  return { progress, emit: plainRenderer(ctx.io, Boolean(ctx.opts.verbose)) };
}

/** Runs the plan with its driver (the docker driver: critical path first, build times recorded for next time). */
async function runPlan(
  ctx: Context,
  plan: Plan,
  flags: BuildFlags,
  run: { project: Project; verify: Verify | undefined; signal: AbortSignal; emit: (e: BuildEvent) => void },
): Promise<RunResult> {
  const { project, verify, signal, emit } = run;
  if (plan.driver === 'buildx') {
    const { runBuildxPlan } = await import('../../drivers/buildx-run.js');
    return runBuildxPlan(plan, {
      bakeFile: BAKE_FILE,
      metadataFile: METADATA_FILE,
      ...(flags.builder ? { builder: flags.builder } : {}),
      attest: flags.attest,
      ...(flags.sbomGenerator ? { sbomGenerator: flags.sbomGenerator } : {}),
      load: flags.load,
      noCache: flags.noCache,
      signal,
      emit,
    });
  }
  const { runDockerPlan } = await import('../../drivers/docker.js');
  const beforePublish = verify?.testHook(project, { out: (l) => ctx.io.err(l), env: ctx.env });
  const priority = criticalPath(
    plan.targets,
    estimateCosts(project, plan, { nativeArchs: nativeArchs(flags.engines), history: readBuildTimes(project.root) }),
  );
  const result = await runDockerPlan(plan, {
    jobs: flags.jobs,
    failFast: flags.failFast,
    engines: flags.engines,
    signal,
    emit,
    priority,
    ...(flags.noCache ? { noCache: true } : {}),
    ...(beforePublish ? { beforePublish } : {}),
  });
  recordBuildTimes(project.root, result.targets);
  return result;
}

function failOnResult(plan: Plan, result: RunResult): void {
  if (result.cancelled) throw new IdekubeError('cancelled: no manifest list was written after the interrupt', { exitCode: 130 });
  const failed = result.targets.filter((t) => t.status === 'failed' || t.status === 'skipped');
  const badImages = result.images.filter((i) => i.status === 'failed' || i.status === 'skipped');
  if (failed.length || badImages.length) {
    throw new RunError(
      `${failed.filter((t) => t.status === 'failed').length} target(s) failed, ${failed.filter((t) => t.status === 'skipped').length} skipped, ${badImages.length} image(s) not ${plan.push ? 'published' : 'complete'}`,
      {
        fix: 'see the errors above; rerun with -v for build logs',
      },
    );
  }
}
