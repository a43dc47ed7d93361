/** The flavors, lineups and platforms of a command (config/selection.ts) from the global and command flags. */
import type { Platform } from '../config/model.js';
import { selectParts, type Selection } from '../config/selection.js';
import type { Context } from './context.js';

export async function selectionOf(
  ctx: Context,
  names: string[],
  opts: { all?: boolean; platforms?: Platform[]; platformsVia?: string },
): Promise<Selection> {
  const base = await ctx.project();
  return selectParts(base, (profile) => ctx.projectWithProfile(profile), {
    names,
    all: Boolean(opts.all),
    env: ctx.env,
    ...(ctx.opts.lineup !== undefined ? { lineup: ctx.opts.lineup } : {}),
    ...(ctx.opts.profile !== undefined ? { profile: ctx.opts.profile } : {}),
    ...(opts.platforms ? { platforms: opts.platforms, platformsVia: opts.platformsVia ?? '--platform' } : {}),
  });
}
