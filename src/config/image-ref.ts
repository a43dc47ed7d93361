/**
 * Image references as Docker reads them: `[registry/]repository[:tag][@digest]`, their grammar (one check of
 * every reference and tag idekube makes or takes), the familiar form BuildKit matches named contexts by, the slug
 * of a flavor id in file and target names, and how a per-arch registry-cache ref relates to the shared one.
 * How idekube *names* its images (schemes v0.4/v0.8) is tags.ts's; this module knows only the grammar.
 */
import { InputError, quoteShort } from './errors.js';
import { ARCHS, type Arch } from './platform.js';

/** `registry/repo/path:tag` or `…@sha256:…` split into its parts. */
export interface ParsedRef {
  registry: string;
  repository: string;
  /** The tag, or the digest of a `@` reference (`latest` when the reference names neither). */
  reference: string;
}

/** Parts of a reference, with Docker's defaults: no registry host is docker.io, a single name is library/<name>. */
export function parseRef(ref: string): ParsedRef {
  const at = ref.indexOf('@');
  let name: string;
  let reference: string;
  if (at >= 0) {
    name = ref.slice(0, at);
    reference = ref.slice(at + 1);
  } else {
    const split = splitTag(ref);
    name = split.name;
    reference = split.tag ?? 'latest';
  }
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    return { registry: 'docker.io', repository: slash < 0 ? `library/${name}` : name, reference };
  }
  return { registry: first, repository: name.slice(slash + 1), reference };
}

/** A tagged reference split as written (no defaults added): the name before the tag's colon, and the tag. */
export function splitTag(ref: string): { name: string; tag?: string } {
  const colon = ref.lastIndexOf(':');
  // a colon before the last slash is a registry port, not a tag
  if (colon < 0 || colon < ref.lastIndexOf('/')) return { name: ref };
  return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/**
 * Docker's "familiar" form of a reference, as BuildKit's Dockerfile frontend looks a `FROM` up among named contexts:
 * no `docker.io/`, no `library/`, no `:latest` (`docker.io/library/debian:latest` → `debian`). Other registries
 * keep their host.
 */
export function familiarName(ref: string): string {
  const { registry, repository, reference } = parseRef(ref);
  const separator = reference.includes(':') ? '@' : ':';
  const name =
    registry === 'docker.io' || registry === 'index.docker.io'
      ? repository.replace(/^library\/(?=[^/]+$)/, '')
      : `${registry}/${repository}`;
  return separator === ':' && reference === 'latest' ? name : `${name}${separator}${reference}`;
}

/** Flavor id → a name part for tags, bake targets and files: web/base → web-base. */
export function slug(flavorId: string): string {
  return flavorId.replace(/\//g, '-');
}

/** The registry-cache ref of one arch: the image's shared cache ref with the arch appended (`…-amd64`). */
export function archCacheRef(sharedRef: string, arch: Arch): string {
  return `${sharedRef}-${arch}`;
}

/** The shared cache ref an arch's ref was made from: bake builds all platforms of a target in one go. */
export function sharedCacheRef(archRef: string): string {
  const arch = ARCHS.find((a) => archRef.endsWith(`-${a}`));
  return arch ? archRef.slice(0, -(arch.length + 1)) : archRef;
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
  const { name, tag } = splitTag(ref);
  if (tag === undefined) return 'it has no tag';
  const bad = tagProblem(tag);
  if (bad) return `tag ${quoteShort(tag, 100)} is not valid (${bad}): ${TAG_RULE}`;
  if (name.length > 255) return 'repository name is longer than 255 characters';
  const parts = name.split('/');
  if (parts.length < 2) return 'it has no registry part';
  if (!DOMAIN.test(parts[0]!)) return `registry ${quoteShort(parts[0]!)} is not a host[:port]`;
  for (const p of parts.slice(1)) {
    if (!PATH_COMPONENT.test(p))
      return `path component ${quoteShort(p)} must be lower-case letters, digits and single separators (. _ __ -)`;
  }
  return undefined;
}

export function checkReference(ref: string, what: string, fix: string): void {
  const problem = referenceProblem(ref);
  if (problem) throw new InputError(`${what} ${quoteShort(ref, 200)} is not a valid image reference: ${problem}`, undefined, fix);
}
