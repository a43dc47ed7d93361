import { relative } from 'node:path';
import type { Part } from '../../config/selection.js';
import { selectionOf } from '../select.js';
import { makePlan } from '../../plan/make-plan.js';
import { mergePlans } from '../../plan/merge.js';
import { imageId, type DriverName, type Plan } from '../../plan/types.js';
import { InputError } from '../../config/errors.js';
import { resolveBuildFlags, type BuildFlags, type RawBuildFlags } from '../build-options.js';
import { printJson, style, type Context } from '../context.js';
import { defaultOutDir } from './generate.js';

/**
 * Which driver runs the plan. `auto` takes buildx when it is installed, new enough and its builder can carry out this
 * plan (else the docker driver, with a note saying why); `--driver buildx` exits 2 when it cannot. A dry run never
 * asks buildx: it prints what would run.
 */
async function chooseDriver(ctx: Context, make: (driver: DriverName) => Plan, flags: BuildFlags): Promise<Plan> {
  // attestations are made by BuildKit through buildx only: never drop them silently
  const needBuildx = (why: string) =>
    new InputError(
      `--attest needs the buildx driver${why}`,
      undefined,
      'install docker-buildx with a builder that can attest (see idekube doctor), or drop --attest',
    );
  if (flags.driver === 'docker' && flags.attest) throw needBuildx('');
  if (flags.driver === 'docker' || (flags.driver === 'buildx' && flags.dryRun)) return make(flags.driver);
  const { probeBuildx } = await import('../../drivers/buildx-probe.js');
  const probe = await probeBuildx({ ...(flags.builder ? { builder: flags.builder } : {}), env: ctx.env });
  if (!probe.available) {
    if (flags.driver === 'buildx') throw new InputError(`--driver buildx: ${probe.why}`);
    if (flags.attest) throw needBuildx(`: ${probe.why}`);
    const plan = make('docker');
    // a missing plugin is the ordinary case on a plain engine: say nothing then
    if (!/is not installed/.test(probe.why)) plan.notes.push(`driver docker: ${probe.why}`);
    return plan;
  }
  const plan = make('buildx');
  const { builderProblems, needsOfPlan } = await import('../../drivers/buildx-builder.js');
  const problems = builderProblems(probe.facts, needsOfPlan(plan, { attest: flags.attest, load: flags.load }));
  if (!problems.length) return plan;
  if (flags.driver === 'buildx' || flags.attest)
    throw new InputError(
      `${flags.driver === 'buildx' ? '--driver buildx' : 'buildx'} cannot carry out this plan:\n  ${problems.join('\n  ')}`,
    );
  const fallback = make('docker');
  fallback.notes.push(`driver docker, not buildx: ${problems.join('; ')}`);
  return fallback;
}

/** The plan of the selected flavors (one per lineup, merged), with the driver chosen unless the flags name one. */
export async function computePlan(ctx: Context, names: string[], flags: BuildFlags): Promise<{ plan: Plan; parts: Part[] }> {
  const { parts, qualify } = await selectionOf(ctx, names, {
    all: flags.all,
    platforms: flags.platforms,
    platformsVia: flags.platformsVia,
  });
  // one plan per lineup (each with its own project: profile, args, tags), then side by side in one
  const make = (driver: DriverName) =>
    mergePlans(
      parts.map((part) =>
        makePlan(part.project, {
          flavors: part.flavors,
          ...(part.platforms ? { platforms: part.platforms } : {}),
          driver,
          push: flags.push,
          archOnly: flags.archOnly,
          cache: flags.cache,
          network: flags.network,
          aliases: flags.aliases,
          contextRoot: defaultOutDir(part.project.root, part.project.layered.profile?.name),
          ...(part.lineup ? { lineup: { name: part.lineup.name, platforms: part.lineup.platforms, qualify } } : {}),
        }),
      ),
    );
  const plan = await chooseDriver(ctx, make, flags);
  if (flags.extraCaCerts) plan.extraCaCerts = flags.extraCaCerts;
  return { plan, parts };
}

export async function planCommand(ctx: Context, names: string[], raw: RawBuildFlags): Promise<void> {
  // like a dry run: an explicit --driver is shown as asked, without asking buildx
  const { plan } = await computePlan(ctx, names, await resolveBuildFlags(ctx, { ...raw, dryRun: true }));
  if (ctx.opts.json) return printJson(ctx.io, plan);
  printPlan(ctx, plan);
}

export function printPlan(ctx: Context, plan: Plan): void {
  const s = style(ctx.io);
  const lineups = plan.lineups?.length
    ? `, lineup${plan.lineups.length > 1 ? 's' : ''} ${plan.lineups.map((l) => `${l.name} (${l.profile ?? 'default'}: ${l.platforms.join(', ')})`).join(', ')}`
    : '';
  ctx.io.out(
    s.bold(
      `plan: ${plan.images.length} image(s), ${plan.targets.length} build target(s), driver ${plan.driver}, GIT_TAG ${plan.gitTag}${plan.profile ? `, profile ${plan.profile}` : ''}${plan.scheme ? `, scheme ${plan.scheme}` : ''}${lineups}${plan.push ? ', push' : ''}${plan.network !== 'default' ? `, network ${plan.network}` : ''}${plan.extraCaCerts ? `, extra CA certificates ${plan.extraCaCerts.path} (${plan.extraCaCerts.certificates}, from ${plan.extraCaCerts.from})` : ''}`,
    ),
  );
  const byId = new Map(plan.targets.map((t) => [t.id, t]));
  for (const image of plan.images) {
    ctx.io.out(
      `${s.bold(imageId(image))}${image.parent ? s.dim(` (from ${image.parent})`) : ''}${image.reason === 'parent' ? s.dim(' [parent of a selected flavor]') : ''}`,
    );
    ctx.io.out(`  image    ${image.ref}`);
    for (const a of image.aliases) ctx.io.out(`  alias    ${a}`);
    for (const id of image.targets) {
      const t = byId.get(id)!;
      ctx.io.out(`  ${t.platform.padEnd(12)} ${t.tag}${t.dependsOn.length ? s.dim(`  after ${t.dependsOn.join(', ')}`) : ''}`);
    }
    const first = byId.get(image.targets[0]!)!;
    ctx.io.out(
      s.dim(`  context  ${relative(process.cwd(), first.contextDir) || '.'}  (${Object.keys(first.buildArgs).length} build args)`),
    );
  }
  for (const n of plan.notes) ctx.io.err(`note: ${n}`);
}
