/**
 * Image names and tags, upstream-compatible. The v0.4 scheme (the default):
 *   <REGISTRY>/<AUTHOR>/<NAME>:<flavor>-<variant>-<GIT_TAG><TAG_POSTFIX>[-staging][-<arch>]
 * (postfix before arch; VM images use <NAME>-qemu). The v0.8 scheme, a repository per image, is in tags-v08.ts;
 * imageRef, aliasTags and cacheRef follow the naming's scheme. Every reference is checked against Docker's grammar.
 */
import { archCacheRef, slug } from './image-ref.js';
import type { Arch } from './platform.js';
import type { Scheme } from './schemes.js';
import { aliasTagV08, cacheTagV08, repositoryV08, tagV08 } from './tags-v08.js';
import type { GitVersion } from './version.js';

export interface ImageNaming {
  registry: string;
  author: string;
  name: string;
  gitTag: string;
  postfix: string;
  /** Tag grammar (absent: v0.4). */
  scheme?: Scheme;
  /** A staging build: `-staging` after the postfix (`--staging`, or GIT_TAG=edge). */
  staging?: boolean;
}

export function repository(n: ImageNaming, qemu = false): string {
  return `${n.registry}/${n.author}/${n.name}${qemu ? '-qemu' : ''}`;
}

/** `featured-base-v0.4.2-ascend` (+ `-amd64` when arch is given). The v0.4 tag. */
export function flavorTag(flavorId: string, n: Pick<ImageNaming, 'gitTag' | 'postfix' | 'staging'>, arch?: Arch): string {
  return `${slug(flavorId)}-${n.gitTag}${n.postfix}${n.staging ? '-staging' : ''}${arch ? `-${arch}` : ''}`;
}

/** The repository an image is pushed to: one for the catalog (v0.4), one per image (v0.8). */
export function imageRepository(flavorId: string, n: ImageNaming, qemu = false): string {
  return n.scheme === 'v0.8' ? repositoryV08(flavorId, n) : repository(n, qemu);
}

export function imageRef(flavorId: string, n: ImageNaming, opts: { arch?: Arch; qemu?: boolean } = {}): string {
  if (n.scheme === 'v0.8') return `${repositoryV08(flavorId, n)}:${tagV08(flavorId, n, opts)}`;
  return `${repository(n, opts.qemu)}:${flavorTag(flavorId, n, opts.arch)}`;
}

/** The v0.4 registry-cache tag of an image and arch: `buildcache-featured-base-ascend-amd64`. */
export function cacheTag(flavorId: string, n: Pick<ImageNaming, 'postfix'>, arch: Arch): string {
  return archCacheRef(`buildcache-${slug(flavorId)}${n.postfix}`, arch);
}

/** The registry-cache ref of an image and arch (`…:buildcache-featured-base-ascend-amd64` in v0.4). */
export function cacheRef(flavorId: string, n: ImageNaming, arch: Arch): string {
  if (n.scheme === 'v0.8') return `${repositoryV08(flavorId, n)}:${cacheTagV08(flavorId, n, arch)}`;
  return `${repository(n)}:${cacheTag(flavorId, n, arch)}`;
}

/** An alias of an image: the version replaced by `word` (`featured-base-latest-ascend`; v0.8 `speit-stable`). */
export function aliasRef(flavorId: string, n: ImageNaming, word: string): string {
  if (n.scheme === 'v0.8') return `${repositoryV08(flavorId, n)}:${aliasTagV08(flavorId, n, word)}`;
  return `${repository(n)}:${slug(flavorId)}-${word}${n.postfix}`;
}

export type AliasKind = 'latest' | 'major' | 'minor';
export const ALIAS_KINDS: readonly AliasKind[] = ['latest', 'major', 'minor'];

/**
 * Alias tags for a release: latest → featured-base-latest, minor → featured-base-v0.4, major → featured-base-v0.
 * Only exact releases get aliases (a prerelease or a between-tags build must never move "latest").
 */
export function aliasTags(
  flavorId: string,
  n: ImageNaming,
  version: GitVersion,
  kinds: readonly AliasKind[],
): { tags: string[]; skipped?: string } {
  if (!kinds.length) return { tags: [] };
  // a staging build is what gets tested before promotion: it never moves an alias itself
  if (n.staging)
    return {
      tags: [],
      skipped: `aliases skipped: ${n.gitTag} is a staging build (idekube promote --staging moves them once it is tested)`,
    };
  const v = version.semver;
  if (!v || (version.source !== 'exact' && version.source !== 'explicit'))
    return { tags: [], skipped: `aliases skipped: ${n.gitTag} is not a release tag` };
  if (v.prerelease.length) return { tags: [], skipped: `aliases skipped: ${n.gitTag} is a prerelease` };
  // a release alias must name what the release tag names: not the commit plus uncommitted edits
  if (version.dirty)
    return {
      tags: [],
      skipped: `aliases skipped: ${n.gitTag} is tagged, but the work tree has uncommitted changes (${version.dirty}); commit or stash them, or pass --git-tag ${n.gitTag} to vouch for this tree`,
    };
  const prefix = n.gitTag.startsWith('v') ? 'v' : '';
  const value: Record<AliasKind, string> = { latest: 'latest', major: `${prefix}${v.major}`, minor: `${prefix}${v.major}.${v.minor}` };
  return { tags: kinds.map((k) => aliasRef(flavorId, n, value[k])) };
}
