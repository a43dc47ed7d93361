/** OCI / Docker distribution types, defined once. */

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

export const ACCEPT_ANY = [MEDIA.dockerList, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.ociManifest].join(', ');

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: PlatformSpec;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ManifestList {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** A manifest as a registry answers it: an image manifest (`config`, `layers`) or a list (`manifests`). */
export interface FetchedManifest {
  schemaVersion?: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

/** A list entry that names its platform (attestation entries name `unknown/unknown`). */
export type PlatformDescriptor = Descriptor & { platform: PlatformSpec };

export interface ImageConfig {
  os: string;
  architecture: string;
  variant?: string;
  config?: { Labels?: Record<string, string> | null };
}

/** `registry/repo/path:tag` or `…@sha256:…` split into its parts. */
export interface ParsedRef {
  registry: string;
  repository: string;
  reference: string;
}

export function parseRef(ref: string): ParsedRef {
  const at = ref.indexOf('@');
  let name: string;
  let reference: string;
  if (at >= 0) {
    name = ref.slice(0, at);
    reference = ref.slice(at + 1);
  } else {
    const colon = ref.lastIndexOf(':');
    if (colon > ref.lastIndexOf('/')) {
      name = ref.slice(0, colon);
      reference = ref.slice(colon + 1);
    } else {
      name = ref;
      reference = 'latest';
    }
  }
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) {
    return { registry: 'docker.io', repository: slash < 0 ? `library/${name}` : name, reference };
  }
  return { registry: first, repository: name.slice(slash + 1), reference };
}

/**
 * Docker's "familiar" form of a reference, as BuildKit's Dockerfile frontend looks a `FROM` up among named contexts:
 * no `docker.io/`, no `library/`, no `:latest` (`docker.io/library/debian:latest` → `debian`). Other registries
 * keep their host.
 */
export function familiarName(ref: string): string {
  const { registry, repository, reference } = parseRef(ref);
  const separator = reference.includes(':') ? '@' : ':';
  const name = registry === 'docker.io' || registry === 'index.docker.io' ? repository.replace(/^library\/(?=[^/]+$)/, '') : `${registry}/${repository}`;
  return separator === ':' && reference === 'latest' ? name : `${name}${separator}${reference}`;
}

/** docker.io is served by registry-1.docker.io; everything else by its own host. */
export function registryHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

export function platformOf(p: PlatformSpec): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
