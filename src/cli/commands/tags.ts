import { InputError } from '../../config/errors.js';
import { flavorPlatforms, selectFlavors } from '../../config/project.js';
import { ALIAS_KINDS, aliasTags, archOf, checkReference, imageRef, type AliasKind } from '../../config/tags.js';
import { printJson, type Context } from '../context.js';

export async function tags(ctx: Context, names: string[], opts: { all?: boolean; alias: string[]; qemu?: boolean }): Promise<void> {
  const bad = opts.alias.filter((a) => !(ALIAS_KINDS as readonly string[]).includes(a));
  if (bad.length) throw new InputError(`--alias ${bad.join(', ')}: unknown alias kind`, undefined, `use one of: ${ALIAS_KINDS.join(', ')}`);
  const project = await ctx.project();
  const ids = selectFlavors(project, names, { all: opts.all, env: ctx.env });
  const qemu = Boolean(opts.qemu);
  const result = ids.map((id) => {
    const platforms = flavorPlatforms(project, id);
    const perArch = platforms.map((p) => ({ platform: p, ref: imageRef(id, project.naming, { arch: archOf(p), qemu }) }));
    const list = imageRef(id, project.naming, { qemu });
    const aliases = qemu ? { tags: [] as string[] } : aliasTags(id, project.naming, project.version, opts.alias as AliasKind[]);
    for (const ref of [list, ...perArch.map((p) => p.ref), ...aliases.tags]) checkReference(ref, 'tag', 'shorten REGISTRY/AUTHOR/NAME or GIT_TAG');
    return { flavor: id, image: list, platforms: perArch, aliases: aliases.tags, ...(aliases.skipped ? { note: aliases.skipped } : {}) };
  });
  if (ctx.opts.json) {
    return printJson(ctx.io, { gitTag: project.version.gitTag, gitTagSource: project.version.source, notes: project.version.notes, flavors: result });
  }
  if (!ctx.opts.quiet) for (const n of project.version.notes) ctx.io.err(`note: ${n}`);
  for (const r of result) {
    ctx.io.out(r.image);
    for (const p of r.platforms) ctx.io.out(p.ref);
    for (const a of r.aliases) ctx.io.out(a);
    if (r.note && !ctx.opts.quiet) ctx.io.err(`note: ${r.flavor}: ${r.note}`);
  }
}
