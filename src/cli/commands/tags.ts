import { InputError } from '../../config/errors.js';
import { flavorPlatforms } from '../../config/project.js';
import { archOf } from '../../config/platform.js';
import { checkReference } from '../../config/image-ref.js';
import { ALIAS_KINDS, aliasTags, imageRef, type AliasKind } from '../../config/tags.js';
import { printJson, type Context } from '../context.js';
import { selectionOf } from '../select.js';

export async function tags(ctx: Context, names: string[], opts: { all?: boolean; alias: string[]; qemu?: boolean }): Promise<void> {
  const bad = opts.alias.filter((a) => !(ALIAS_KINDS as readonly string[]).includes(a));
  if (bad.length) throw new InputError(`--alias ${bad.join(', ')}: unknown alias kind`, undefined, `use one of: ${ALIAS_KINDS.join(', ')}`);
  const project = await ctx.project();
  const { parts } = await selectionOf(ctx, names, { all: opts.all });
  const qemu = Boolean(opts.qemu);
  // each lineup names its images with its own profile (postfix) and builds them for its own platforms
  const result = parts.flatMap((part) =>
    part.flavors.map((id) => {
      const naming = part.project.naming;
      const platforms = flavorPlatforms(part.project, id).filter((p) => !part.lineup || part.lineup.platforms.includes(p));
      const perArch = platforms.map((p) => ({ platform: p, ref: imageRef(id, naming, { arch: archOf(p), qemu }) }));
      const list = imageRef(id, naming, { qemu });
      const aliases = qemu ? { tags: [] as string[] } : aliasTags(id, naming, part.project.version, opts.alias as AliasKind[]);
      for (const ref of [list, ...perArch.map((p) => p.ref), ...aliases.tags])
        checkReference(ref, 'tag', 'shorten REGISTRY/AUTHOR/NAME or GIT_TAG');
      return {
        flavor: id,
        ...(part.lineup ? { lineup: part.lineup.name } : {}),
        image: list,
        platforms: perArch,
        aliases: aliases.tags,
        ...(aliases.skipped ? { note: aliases.skipped } : {}),
      };
    }),
  );
  if (ctx.opts.json) {
    return printJson(ctx.io, {
      gitTag: project.version.gitTag,
      gitTagSource: project.version.source,
      ...(project.scheme !== 'v0.4' ? { scheme: project.scheme } : {}),
      notes: project.version.notes,
      flavors: result,
    });
  }
  if (!ctx.opts.quiet) for (const n of project.version.notes) ctx.io.err(`note: ${n}`);
  for (const r of result) {
    ctx.io.out(r.image);
    for (const p of r.platforms) ctx.io.out(p.ref);
    for (const a of r.aliases) ctx.io.out(a);
    if (r.note && !ctx.opts.quiet) ctx.io.err(`note: ${r.flavor}: ${r.note}`);
  }
}
