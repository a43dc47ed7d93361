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

/** docker.io is served by registry-1.docker.io; everything else by its own host. */
export function registryHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

export function platformOf(p: PlatformSpec): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
