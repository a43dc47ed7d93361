import { resolveArgs } from '../../config/resolve.js';
import { selectFlavors } from '../../config/project.js';
import { SETTING_KEYS, describeOrigin } from '../../config/sources.js';
import { printJson, style, type Context } from '../context.js';

export async function config(ctx: Context, flavor: string | undefined): Promise<void> {
  const project = await ctx.project();
  const [id] = selectFlavors(project, flavor ? [flavor] : [], { env: ctx.env });
  const args = resolveArgs(project.catalog, project.layered, id!);
  const settings: Array<{ key: string; value: string; origin: string }> = SETTING_KEYS.map((k) => {
    const v = project.layered.settings[k];
    if (k === 'GIT_TAG') {
      return { key: k, value: project.version.gitTag, origin: v ? describeOrigin(v.origin) : `git (${project.version.source})` };
    }
    return { key: k, value: v?.value ?? '', origin: v ? describeOrigin(v.origin) : 'unset' };
  });
  // shown when it changes the tags (the default, v0.4, keeps the output as it was)
  if (project.scheme !== 'v0.4') settings.push({ key: 'IDEKUBE_SCHEME', value: project.scheme, origin: project.schemeFrom });
  if (ctx.opts.json) {
    return printJson(ctx.io, {
      flavor: id,
      profile: project.layered.profile?.name ?? null,
      settings,
      args: args.map((a) => ({
        key: a.key,
        value: a.value,
        origin: describeOrigin(a.origin),
        overridden: a.overridden.map((o) => ({ value: o.value, origin: describeOrigin(o.origin) })),
        consumers: a.consumers,
      })),
    });
  }
  const s = style(ctx.io);
  const width = Math.max(...[...args, ...settings].map((a) => a.key.length)) + 2;
  const valueWidth = Math.min(48, Math.max(...[...args, ...settings].map((a) => JSON.stringify(a.value ?? '').length)) + 2);
  ctx.io.out(s.bold(`${id}${project.layered.profile ? ` (profile ${project.layered.profile.name})` : ''}`));
  ctx.io.out(s.dim('settings:'));
  for (const x of settings) ctx.io.out(`  ${x.key.padEnd(width)}${JSON.stringify(x.value).padEnd(valueWidth)} ${s.dim(x.origin)}`);
  ctx.io.out(s.dim('build args:'));
  for (const a of args) {
    const shown = a.value === null ? s.red('(no value)') : JSON.stringify(a.value);
    ctx.io.out(`  ${a.key.padEnd(width)}${shown.padEnd(valueWidth)} ${s.dim(describeOrigin(a.origin))}`);
    if (ctx.opts.verbose) for (const o of a.overridden) ctx.io.out(`  ${''.padEnd(width)}${s.dim(`overrides ${JSON.stringify(o.value)} from ${describeOrigin(o.origin)}`)}`);
  }
}
