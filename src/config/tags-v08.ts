/**
 * The v0.8 tag scheme (idekube-project/idekube-container v0.8): a repository per image.
 *   base variants:  <REGISTRY>/<AUTHOR>/<NAME>-<group>-base:<VERSION>[-qemu][<TAG_POSTFIX>][-staging][-<arch>]
 *   other variants: <REGISTRY>/<AUTHOR>/<NAME>-<group>:<variant>-<VERSION>[-qemu][<TAG_POSTFIX>][-staging][-<arch>]
 * Stable aliases drop the version: `stable[-ascend]` and `<variant>-stable[-ascend]`. The postfix comes from the
 * lineup's profile (`-ascend`), `-staging` after it, as upstream's bake file writes them; per-arch tags (which
 * upstream does not have: bake pushes lists) end in the arch, as in v0.4.
 */
import { archCacheRef } from './image-ref.js';
import type { Arch } from './platform.js';
import type { ImageNaming } from './tags.js';

export function parts(flavorId: string): { group: string; variant: string } {
  const slash = flavorId.indexOf('/');
  return { group: flavorId.slice(0, slash), variant: flavorId.slice(slash + 1) };
}

/** `featured/base` → `…/<NAME>-featured-base`; `featured/speit` → `…/<NAME>-featured`. */
export function repositoryV08(flavorId: string, n: Pick<ImageNaming, 'registry' | 'author' | 'name'>): string {
  const { group, variant } = parts(flavorId);
  return `${n.registry}/${n.author}/${n.name}-${group}${variant === 'base' ? '-base' : ''}`;
}

/** What comes before the version or alias word in a tag: nothing for a base variant, `<variant>-` otherwise. */
function variantPrefix(flavorId: string): string {
  const { variant } = parts(flavorId);
  return variant === 'base' ? '' : `${variant}-`;
}

/** `speit-v1.2.3-ascend-staging` (+ `-arm64`); `-qemu` right after the version for VM images. */
export function tagV08(
  flavorId: string,
  n: Pick<ImageNaming, 'gitTag' | 'postfix' | 'staging'>,
  opts: { arch?: Arch; qemu?: boolean } = {},
): string {
  return `${variantPrefix(flavorId)}${n.gitTag}${opts.qemu ? '-qemu' : ''}${n.postfix}${n.staging ? '-staging' : ''}${opts.arch ? `-${opts.arch}` : ''}`;
}

/** An alias word in place of the version: `stable` → `:stable-ascend` / `:speit-stable`. Never staged. */
export function aliasTagV08(flavorId: string, n: Pick<ImageNaming, 'postfix'>, word: string): string {
  return `${variantPrefix(flavorId)}${word}${n.postfix}`;
}

/** The registry-cache tag, in the image's own repository: `buildcache-speit-ascend-amd64`. */
export function cacheTagV08(flavorId: string, n: Pick<ImageNaming, 'postfix'>, arch: Arch): string {
  return archCacheRef(`buildcache-${parts(flavorId).variant}${n.postfix}`, arch);
}
