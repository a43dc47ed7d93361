import { resolveArgs } from '../../config/resolve.js';
import { InputError } from '../../config/errors.js';
import { describeOrigin } from '../../config/layered.js';
import { SETTING_KEYS } from '../../config/sources.js';
import { printJson, style, type Context } from '../context.js';
import { selectionOf } from '../select.js';

/**
 * A flavor's resolved args and settings. With a lineup selected, resolved with that lineup's project (its profile:
 * BASE_IMAGE, TAG_POSTFIX), and the lineup is named. With several lineups the flavor resolves with the one lineup
 * that builds it; when more than one does (each with its own profile), exit 2: config shows one resolution, so
 * select one of them with --lineup.
 */
export async function config(ctx: Context, flavor: string | undefined): Promise<void> {
  const { parts } = await selectionOf(ctx, flavor ? [flavor] : [], {});
  if (parts.length > 1) {
    const id = parts[0]!.flavors[0]!;
    const names = parts.map((p) => p.lineup!.name);
    throw new InputError(
      `config resolves ${id} with one lineup's profile, and ${id} is in lineups ${parts.map((p) => `${p.lineup!.name} (${p.lineup!.profile ? `profile ${p.lineup!.profile}` : 'no profile'})`).join(', ')}`,
      undefined,
      `select one: ${names.map((n) => `idekube --lineup ${n} config ${id}`).join(', or ')}`,
    );
  }
  const part = parts[0]!;
  const project = part.project;
  const lineup = part.lineup;
  const id = part.flavors[0]!;
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
      ...(lineup ? { lineup: lineup.name } : {}),
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
  const profile = project.layered.profile ? `profile ${project.layered.profile.name}` : '';
  ctx.io.out(s.bold(`${id}${lineup ? ` (lineup ${lineup.name}, ${profile || 'no profile'})` : profile ? ` (${profile})` : ''}`));
  ctx.io.out(s.dim('settings:'));
  for (const x of settings) ctx.io.out(`  ${x.key.padEnd(width)}${JSON.stringify(x.value).padEnd(valueWidth)} ${s.dim(x.origin)}`);
  ctx.io.out(s.dim('build args:'));
  for (const a of args) {
    const shown = a.value === null ? s.red('(no value)') : JSON.stringify(a.value);
    ctx.io.out(`  ${a.key.padEnd(width)}${shown.padEnd(valueWidth)} ${s.dim(describeOrigin(a.origin))}`);
    if (ctx.opts.verbose)
      for (const o of a.overridden)
        ctx.io.out(`  ${''.padEnd(width)}${s.dim(`overrides ${JSON.stringify(o.value)} from ${describeOrigin(o.origin)}`)}`);
  }
}
