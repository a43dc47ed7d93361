/**
 * `idekube promote`: the published lists (version tag, or staging tag with --staging) written again under their
 * stable aliases, by digest, without rebuilding. Every image is checked first; if any cannot be promoted, nothing
 * is written (exit 1).
 */
import { InputError, RunError } from '../../config/errors.js';
import { flavorPlatforms } from '../../config/project.js';
import { archOf } from '../../config/platform.js';
import { checkReference, parseRef } from '../../config/image-ref.js';
import { ALIAS_KINDS, aliasRef, aliasTags, imageRef, type AliasKind } from '../../config/tags.js';
import { RegistryClient } from '../../registry/client.js';
import { checkPromotion, writePromotion, type CheckedPromotion, type PromotionRequest } from '../../registry/promote.js';
import { printJson, type Context } from '../context.js';
import { selectionOf } from '../select.js';

/** v0.8's alias word (upstream's tag-stable.sh): `stable`, `speit-stable`, `stable-ascend`. */
const STABLE = 'stable';

export async function promote(ctx: Context, names: string[], opts: { all?: boolean; alias: string[]; dryRun?: boolean }): Promise<void> {
  const bad = opts.alias.filter((a) => !(ALIAS_KINDS as readonly string[]).includes(a));
  if (bad.length) throw new InputError(`--alias ${bad.join(', ')}: unknown alias kind`, undefined, `use one of: ${ALIAS_KINDS.join(', ')}`);
  const { parts } = await selectionOf(ctx, names, { all: opts.all });
  const requests: Array<PromotionRequest & { flavor: string; lineup?: string }> = [];
  for (const part of parts) {
    const { naming, version, scheme } = part.project;
    if (scheme === 'v0.8' && opts.alias.length)
      throw new InputError(
        '--alias is for the v0.4 scheme; v0.8 promotes to its stable aliases',
        undefined,
        'drop --alias (or use --scheme v0.4)',
      );
    const kinds = (opts.alias.length ? opts.alias : ['latest']) as AliasKind[];
    for (const id of part.flavors) {
      let aliases: string[];
      if (scheme === 'v0.8') aliases = [aliasRef(id, naming, STABLE)];
      else {
        // the alias of a staged list is the release's alias (aliasTags gives none for a staging build itself)
        const a = aliasTags(id, { ...naming, staging: false }, version, kinds);
        if (a.skipped)
          throw new InputError(
            `${id}: nothing to promote to: ${a.skipped}`,
            undefined,
            'promote a release: pass its tag with --git-tag (e.g. --git-tag v1.2.3)',
          );
        aliases = a.tags;
      }
      const platforms = flavorPlatforms(part.project, id).filter((p) => !part.lineup || part.lineup.platforms.includes(p));
      const request = {
        flavor: id,
        ...(part.lineup ? { lineup: part.lineup.name } : {}),
        source: imageRef(id, naming),
        platforms: platforms.map((p) => ({ platform: p, perArch: imageRef(id, naming, { arch: archOf(p) }) })),
        aliases,
      };
      for (const ref of [request.source, ...aliases, ...request.platforms.map((p) => p.perArch)])
        checkReference(ref, 'tag', 'shorten REGISTRY/AUTHOR/NAME or GIT_TAG');
      requests.push(request);
    }
  }
  const clients = new Map<string, RegistryClient>();
  const clientOf = (ref: string) => {
    const { registry } = parseRef(ref);
    if (!clients.has(registry)) clients.set(registry, new RegistryClient(registry, { env: ctx.env }));
    return clients.get(registry)!;
  };
  // everything is checked before anything is written
  const checked: Array<CheckedPromotion & { flavor: string; lineup?: string }> = [];
  const refused: string[] = [];
  for (const r of requests) {
    try {
      checked.push({ ...(await checkPromotion(clientOf(r.source), r)), flavor: r.flavor, ...(r.lineup ? { lineup: r.lineup } : {}) });
    } catch (e) {
      if (!(e instanceof RunError)) throw e;
      refused.push(e.message);
      if (!ctx.opts.json) ctx.io.err(`✖ ${e.message}`);
    }
  }
  if (refused.length) {
    if (ctx.opts.json) printJson(ctx.io, { promoted: [], refused });
    throw new RunError(`${refused.length} of ${requests.length} image(s) cannot be promoted: nothing was written`, {
      fix: 'publish the images again (idekube publish), or rewrite their lists from the per-arch tags (idekube manifest), then promote',
    });
  }
  if (!opts.dryRun) for (const p of checked) await writePromotion(clientOf(p.source), p);
  const rows = checked.map((p) => ({
    flavor: p.flavor,
    ...(p.lineup ? { lineup: p.lineup } : {}),
    source: p.source,
    digest: p.digest,
    aliases: p.aliases,
    platforms: p.checks,
  }));
  if (ctx.opts.json) return printJson(ctx.io, { dryRun: Boolean(opts.dryRun), promoted: rows });
  for (const r of rows) {
    for (const a of r.aliases) ctx.io.out(`${opts.dryRun ? 'would promote' : '✔'} ${r.source}@${r.digest} → ${a}`);
    const unchecked = r.platforms.filter((c) => c.perArchDigest === undefined).map((c) => c.platform);
    if (unchecked.length && !ctx.opts.quiet)
      ctx.io.err(
        `note: ${r.source}: no per-arch tag for ${unchecked.join(', ')} to compare with (a buildx push writes lists only); promoted by the list's digest`,
      );
  }
}
