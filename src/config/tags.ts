/**
 * Image names and tags, upstream-compatible. The v0.4 scheme (the default):
 *   <REGISTRY>/<AUTHOR>/<NAME>:<flavor>-<variant>-<GIT_TAG><TAG_POSTFIX>[-staging][-<arch>]
 * (postfix before arch; VM images use <NAME>-qemu). The v0.8 scheme, a repository per image, is in tags-v08.ts;
 * imageRef, aliasTags and cacheRef follow the naming's scheme. Every reference is checked against Docker's grammar.
 */
import { InputError, quoteShort } from './errors.js';
import type { Platform } from './model.js';
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

export type Arch = 'amd64' | 'arm64';

export function archOf(platform: Platform): Arch {
  return platform.split('/')[1] as Arch;
}

// distribution/reference grammar, reduced to what we produce.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. The one check of every tag idekube makes or takes. */
export const MAX_TAG_LENGTH = 128;
export const TAG_RULE = 'a Docker tag is 1-128 characters of [A-Za-z0-9_.-], not starting with . or -';
const TAG_CHARS = /^[A-Za-z0-9_.-]*$/;

/** Why `tag` is not a valid Docker tag (the rule it breaks), or undefined when it is. */
export function tagProblem(tag: string): string | undefined {
  if (tag.length === 0) return 'it is empty';
  if (tag.length > MAX_TAG_LENGTH) return `it is ${tag.length} characters, over ${MAX_TAG_LENGTH}`;
  if (!TAG_CHARS.test(tag)) return 'it holds a character other than A-Z a-z 0-9 _ . -';
  if (tag[0] === '.' || tag[0] === '-') return `it starts with ${JSON.stringify(tag[0])}`;
  return undefined;
}

/** A registry host: a host name or IP, optionally :port. */
export function isRegistryHost(s: string): boolean {
  return DOMAIN.test(s);
}

/** One `/`-separated component of a repository path (AUTHOR, NAME): lower case, single separators. */
export function isPathComponent(s: string): boolean {
  return PATH_COMPONENT.test(s);
}

/** Why `ref` is not a valid `registry/path:tag` reference, or undefined when it is. */
export function referenceProblem(ref: string): string | undefined {
  const colon = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  if (colon < 0 || colon < slash) return 'it has no tag';
  const name = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  const bad = tagProblem(tag);
  if (bad) return `tag ${quoteShort(tag, 100)} is not valid (${bad}): ${TAG_RULE}`;
  if (name.length > 255) return 'repository name is longer than 255 characters';
  const parts = name.split('/');
  if (parts.length < 2) return 'it has no registry part';
  if (!DOMAIN.test(parts[0]!)) return `registry ${quoteShort(parts[0]!)} is not a host[:port]`;
  for (const p of parts.slice(1)) {
    if (!PATH_COMPONENT.test(p)) return `path component ${quoteShort(p)} must be lower-case letters, digits and single separators (. _ __ -)`;
  }
  return undefined;
}

export function repository(n: ImageNaming, qemu = false): string {
  return `${n.registry}/${n.author}/${n.name}${qemu ? '-qemu' : ''}`;
}

/** `featured-base-v0.4.2-ascend` (+ `-amd64` when arch is given). The v0.4 tag. */
export function flavorTag(flavorId: string, n: Pick<ImageNaming, 'gitTag' | 'postfix' | 'staging'>, arch?: Arch): string {
  return `${flavorId.replace('/', '-')}-${n.gitTag}${n.postfix}${n.staging ? '-staging' : ''}${arch ? `-${arch}` : ''}`;
}

/** The repository an image is pushed to: one for the catalog (v0.4), one per image (v0.8). */
export function imageRepository(flavorId: string, n: ImageNaming, qemu = false): string {
  return n.scheme === 'v0.8' ? repositoryV08(flavorId, n) : repository(n, qemu);
}

export function imageRef(flavorId: string, n: ImageNaming, opts: { arch?: Arch; qemu?: boolean } = {}): string {
  if (n.scheme === 'v0.8') return `${repositoryV08(flavorId, n)}:${tagV08(flavorId, n, opts)}`;
  return `${repository(n, opts.qemu)}:${flavorTag(flavorId, n, opts.arch)}`;
}

/** The registry-cache ref of an image and arch (`…:buildcache-featured-base-ascend-amd64` in v0.4). */
export function cacheRef(flavorId: string, n: ImageNaming, arch: Arch): string {
  if (n.scheme === 'v0.8') return `${repositoryV08(flavorId, n)}:${cacheTagV08(flavorId, n, arch)}`;
  return `${repository(n)}:buildcache-${flavorId.replace('/', '-')}${n.postfix}-${arch}`;
}

/** An alias of an image: the version replaced by `word` (`featured-base-latest-ascend`; v0.8 `speit-stable`). */
export function aliasRef(flavorId: string, n: ImageNaming, word: string): string {
  if (n.scheme === 'v0.8') return `${repositoryV08(flavorId, n)}:${aliasTagV08(flavorId, n, word)}`;
  return `${repository(n)}:${flavorId.replace('/', '-')}-${word}${n.postfix}`;
}

export type AliasKind = 'latest' | 'major' | 'minor';
export const ALIAS_KINDS: readonly AliasKind[] = ['latest', 'major', 'minor'];

/**
 * Alias tags for a release: latest → featured-base-latest, minor → featured-base-v0.4, major → featured-base-v0.
 * Only exact releases get aliases (a prerelease or a between-tags build must never move "latest").
 */
export function aliasTags(flavorId: string, n: ImageNaming, version: GitVersion, kinds: readonly AliasKind[]): { tags: string[]; skipped?: string } {
  if (!kinds.length) return { tags: [] };
  // a staging build is what gets tested before promotion: it never moves an alias itself
  if (n.staging) return { tags: [], skipped: `aliases skipped: ${n.gitTag} is a staging build (idekube promote --staging moves them once it is tested)` };
  const v = version.semver;
  if (!v || (version.source !== 'exact' && version.source !== 'explicit')) return { tags: [], skipped: `aliases skipped: ${n.gitTag} is not a release tag` };
  if (v.prerelease.length) return { tags: [], skipped: `aliases skipped: ${n.gitTag} is a prerelease` };
  // a release alias must name what the release tag names: not the commit plus uncommitted edits
  if (version.dirty) return { tags: [], skipped: `aliases skipped: ${n.gitTag} is tagged, but the work tree has uncommitted changes (${version.dirty}); commit or stash them, or pass --git-tag ${n.gitTag} to vouch for this tree` };
  const prefix = n.gitTag.startsWith('v') ? 'v' : '';
  const value: Record<AliasKind, string> = { latest: 'latest', major: `${prefix}${v.major}`, minor: `${prefix}${v.major}.${v.minor}` };
  return { tags: kinds.map((k) => aliasRef(flavorId, n, value[k])) };
}

export function checkReference(ref: string, what: string, fix: string): void {
  const problem = referenceProblem(ref);
  if (problem) throw new InputError(`${what} ${quoteShort(ref, 200)} is not a valid image reference: ${problem}`, undefined, fix);
}
