import { RunError } from '../../config/errors.js';
import { RegistryClient } from '../../registry/client.js';
import { publishList } from '../../registry/manifest-list.js';
import { parseRef } from '../../config/image-ref.js';
import { parseBuildFlags, type RawBuildFlags } from '../build-options.js';
import { printJson, type Context } from '../context.js';
import { computePlan } from './plan.js';

/**
 * Joins already-pushed per-arch tags into each flavor's manifest list (the merge step of a CI that builds each
 * architecture on its own runner). Every per-arch image is read back and checked before the list is written.
 */
export async function manifest(ctx: Context, names: string[], raw: RawBuildFlags & { cleanup?: boolean }): Promise<void> {
  // nothing is built: the plan of a push, with no driver to choose and no build settings (extra CA certificates)
  const flags = parseBuildFlags({ ...raw, push: true, driver: 'docker' }, ctx.env);
  const { plan } = await computePlan(ctx, names, flags);
  const results: Array<{
    flavor: string;
    ref: string;
    digest?: string;
    platforms: string[];
    aliases: string[];
    error?: string;
    cleanup?: string;
  }> = [];
  const targetById = new Map(plan.targets.map((t) => [t.id, t]));
  for (const image of plan.images.filter((i) => i.reason === 'selected')) {
    const { registry } = parseRef(image.ref);
    const client = new RegistryClient(registry);
    const perArch = image.targets.map((id) => targetById.get(id)!).map((t) => ({ platform: t.platform, ref: t.tag }));
    try {
      const r = await publishList(client, image.ref, perArch, {
        extraTags: image.aliases.map((a) => parseRef(a).reference),
        dryRun: flags.dryRun,
      });
      const entry: (typeof results)[number] = {
        flavor: image.flavor,
        ref: image.ref,
        digest: r.digest,
        platforms: image.platforms,
        aliases: image.aliases,
      };
      if (raw.cleanup && !flags.dryRun)
        entry.cleanup = await removeArchTags(
          client,
          perArch.map((p) => p.ref),
        );
      results.push(entry);
    } catch (e) {
      results.push({
        flavor: image.flavor,
        ref: image.ref,
        platforms: image.platforms,
        aliases: image.aliases,
        error: (e as Error).message,
      });
    }
  }
  if (ctx.opts.json) printJson(ctx.io, results);
  else {
    for (const r of results) {
      if (r.error) ctx.io.err(`✖ ${r.ref}: ${r.error}`);
      else
        ctx.io.out(
          `${flags.dryRun ? 'would write' : '✔'} ${r.ref}${r.digest ? `@${r.digest}` : ''} [${r.platforms.join(', ')}]${r.aliases.length ? ` + ${r.aliases.length} alias(es)` : ''}${r.cleanup ? `; ${r.cleanup}` : ''}`,
        );
    }
  }
  const failed = results.filter((r) => r.error);
  if (failed.length)
    throw new RunError(`${failed.length} manifest list(s) not written (nothing was changed for them)`, {
      fix: 'push every declared platform first (idekube build --push --platform …)',
    });
}

/**
 * Removes per-arch tags after the list exists. Only a tag DELETE (OCI distribution 1.1) is safe: deleting by digest
 * would delete the image the list points at. Registries without tag deletion keep the tags, and we say so.
 */
async function removeArchTags(client: RegistryClient, refs: string[]): Promise<string> {
  let removed = 0;
  for (const ref of refs) {
    const { repository, reference } = parseRef(ref);
    if (await client.deleteManifest(repository, reference)) removed++;
  }
  return removed === refs.length
    ? `removed ${removed} per-arch tag(s)`
    : `kept ${refs.length - removed} per-arch tag(s): the registry does not delete tags (only digests, which the list still needs)`;
}
