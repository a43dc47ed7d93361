import { relative } from 'node:path';
import { selectFlavors } from '../../config/project.js';
import { makePlan } from '../../plan/make-plan.js';
import type { Plan } from '../../plan/types.js';
import { parseBuildFlags, type RawBuildFlags } from '../build-options.js';
import { printJson, style, type Context } from '../context.js';
import { defaultOutDir } from './generate.js';

export async function resolveDriver(driver: 'auto' | 'docker' | 'buildx'): Promise<'docker' | 'buildx'> {
  if (driver !== 'auto') return driver;
  const { buildxAvailable } = await import('../../drivers/buildx-probe.js');
  return (await buildxAvailable()) ? 'buildx' : 'docker';
}

export async function computePlan(ctx: Context, names: string[], raw: RawBuildFlags, force: { push?: boolean; archOnly?: boolean } = {}): Promise<{ plan: Plan; flags: ReturnType<typeof parseBuildFlags> }> {
  const flags = parseBuildFlags(raw, ctx.env);
  if (force.push) flags.push = true;
  if (force.archOnly !== undefined) flags.archOnly = force.archOnly;
  const project = await ctx.project();
  const ids = selectFlavors(project, names, { all: flags.all, env: ctx.env });
  const driver = await resolveDriver(flags.driver);
  const plan = makePlan(project, {
    flavors: ids,
    ...(flags.platforms ? { platforms: flags.platforms } : {}),
    driver,
    push: flags.push,
    archOnly: flags.archOnly,
    cache: flags.cache,
    network: flags.network,
    aliases: flags.aliases,
    contextRoot: defaultOutDir(project.root, project.layered.profile?.name),
  });
  return { plan, flags };
}

export async function planCommand(ctx: Context, names: string[], raw: RawBuildFlags): Promise<void> {
  const { plan } = await computePlan(ctx, names, raw);
  if (ctx.opts.json) return printJson(ctx.io, plan);
  printPlan(ctx, plan);
}

export function printPlan(ctx: Context, plan: Plan): void {
  const s = style(ctx.io);
  ctx.io.out(s.bold(`plan: ${plan.images.length} image(s), ${plan.targets.length} build target(s), driver ${plan.driver}, GIT_TAG ${plan.gitTag}${plan.profile ? `, profile ${plan.profile}` : ''}${plan.push ? ', push' : ''}${plan.network !== 'default' ? `, network ${plan.network}` : ''}`));
  for (const image of plan.images) {
    ctx.io.out(`${s.bold(image.flavor)}${image.parent ? s.dim(` (from ${image.parent})`) : ''}${image.reason === 'parent' ? s.dim(' [parent of a selected flavor]') : ''}`);
    ctx.io.out(`  image    ${image.ref}`);
    for (const a of image.aliases) ctx.io.out(`  alias    ${a}`);
    for (const id of image.targets) {
      const t = plan.targets.find((x) => x.id === id)!;
      ctx.io.out(`  ${t.platform.padEnd(12)} ${t.tag}${t.dependsOn.length ? s.dim(`  after ${t.dependsOn.join(', ')}`) : ''}`);
    }
    const first = plan.targets.find((x) => x.id === image.targets[0])!;
    ctx.io.out(s.dim(`  context  ${relative(process.cwd(), first.contextDir) || '.'}  (${Object.keys(first.buildArgs).length} build args)`));
  }
  for (const n of plan.notes) ctx.io.err(`note: ${n}`);
}
