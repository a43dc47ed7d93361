/**
 * Guarded multi-arch publishing: read each per-arch image back from the registry, check that its config really
 * is that os/arch, and only then write the manifest list. A list that lacks a declared platform is never pushed.
 */
import { RunError } from '../config/errors.js';
import type { RegistryClient } from './client.js';
import { parseRef } from '../config/image-ref.js';
import { MEDIA, platformOf, type Descriptor, type ImageConfig, type ManifestList, type PlatformSpec } from './types.js';

export interface PerArchImage {
  /** linux/amd64 */
  platform: string;
  /** Full reference of the per-arch tag (or digest) in the same repository as the list. */
  ref: string;
}

export function platformSpec(platform: string): PlatformSpec {
  const [os, architecture, variant] = platform.split('/') as [string, string, string | undefined];
  // Docker's convention: arm64 images carry variant v8
  return { os, architecture, ...(variant ? { variant } : architecture === 'arm64' ? { variant: 'v8' } : {}) };
}

/** Attestation manifests (SBOM, provenance) sit in an index under the platform unknown/unknown. */
function isAttestation(d: Descriptor): boolean {
  return d.platform?.os === 'unknown' || d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/**
 * The descriptors a per-arch tag contributes to a list, after checking its config's os/arch: the image itself, then
 * its attestations. A per-arch tag is a plain manifest (Docker Engine, classic store) or an index holding one
 * platform plus attestation manifests (buildx, or an engine with the containerd image store).
 */
export async function describePerArch(client: RegistryClient, img: PerArchImage): Promise<Descriptor[]> {
  const { repository, reference } = parseRef(img.ref);
  const m = await client.getManifest(repository, reference);
  if (!m) throw new RunError(`${img.ref} is not in the registry`, { fix: 'push the per-arch image first (idekube build --push)' });
  const want = platformSpec(img.platform);
  if (!m.json.manifests)
    return [await checkedImage(client, img, repository, { mediaType: m.mediaType, digest: m.digest, size: m.body.length }, m.json, want)];
  const entries = m.json.manifests;
  const images = entries.filter((e) => !isAttestation(e));
  if (images.length !== 1)
    throw new RunError(
      `${img.ref} is already a multi-platform list (${images.map((e) => (e.platform ? platformOf(e.platform) : e.digest)).join(', ')}), expected a ${img.platform} image`,
    );
  const manifest = await client.getManifest(repository, images[0]!.digest);
  const image = await checkedImage(client, img, repository, images[0]!, manifest?.json, want);
  // keep only the attestations of this image: they name it by digest
  const attestations = entries.filter((e) => isAttestation(e) && e.annotations?.['vnd.docker.reference.digest'] === images[0]!.digest);
  return [image, ...attestations];
}

async function checkedImage(
  client: RegistryClient,
  img: PerArchImage,
  repository: string,
  d: Descriptor,
  manifest: { config?: Descriptor } | undefined,
  want: PlatformSpec,
): Promise<Descriptor> {
  if (!manifest?.config) throw new RunError(`${img.ref}: ${d.digest} is not an image manifest`);
  const config = await client.getBlobJson<ImageConfig>(repository, manifest.config.digest);
  if (config.os !== want.os || config.architecture !== want.architecture) {
    throw new RunError(`${img.ref} is ${config.os}/${config.architecture}, not ${img.platform}`, {
      fix: 'rebuild it for the right platform',
    });
  }
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: want };
}

/** The descriptor of a single-platform image (the image itself, without attestations). */
export async function describeImage(client: RegistryClient, img: PerArchImage): Promise<Descriptor> {
  return (await describePerArch(client, img))[0]!;
}

export interface ListResult {
  ref: string;
  digest: string;
  manifests: Descriptor[];
}

/**
 * Create (or replace) `listRef` from per-arch images. Everything is checked before the one PUT; with `tags`,
 * the same list is also written under each extra tag after the main one succeeded.
 */
export async function publishList(
  client: RegistryClient,
  listRef: string,
  images: PerArchImage[],
  opts: { extraTags?: string[]; dryRun?: boolean } = {},
): Promise<ListResult> {
  const { repository, reference } = parseRef(listRef);
  const declared = images.map((i) => i.platform);
  if (new Set(declared).size !== declared.length) throw new RunError(`duplicate platforms for ${listRef}: ${declared.join(', ')}`);
  const manifests: Descriptor[] = [];
  for (const img of images) {
    const p = parseRef(img.ref);
    if (p.registry !== parseRef(listRef).registry || p.repository !== repository) {
      throw new RunError(`${img.ref} is not in the repository of ${listRef}`, {
        fix: 'per-arch images must be pushed to the same repository as the list',
      });
    }
    manifests.push(...(await describePerArch(client, img)));
  }
  // attestation manifests are OCI: a list that carries them is an OCI index
  const mediaType = manifests.some((d) => d.mediaType === MEDIA.ociManifest || d.mediaType === MEDIA.ociIndex)
    ? MEDIA.ociIndex
    : MEDIA.dockerList;
  const list: ManifestList = { schemaVersion: 2, mediaType, manifests };
  const body = Buffer.from(JSON.stringify(list, null, 2));
  if (opts.dryRun) return { ref: listRef, digest: '', manifests };
  const digest = await client.putManifest(repository, reference, mediaType, body);
  for (const t of opts.extraTags ?? []) await client.putManifest(repository, t, mediaType, body);
  const check = await verifyList(client, listRef, declared);
  return { ref: listRef, digest: digest || check.digest, manifests };
}

/** Read a list back and check every declared platform is present with the right config. */
export async function verifyList(
  client: RegistryClient,
  listRef: string,
  platforms: string[],
): Promise<{ digest: string; platforms: string[] }> {
  const { repository, reference } = parseRef(listRef);
  const m = await client.getManifest(repository, reference);
  if (!m) throw new RunError(`${listRef} was not found in the registry after pushing it`);
  const entries = m.json.manifests ?? [];
  const found: string[] = [];
  for (const e of entries) {
    if (!e.platform || e.platform.os === 'unknown') continue; // attestation manifests
    const image = await client.getManifest(repository, e.digest);
    if (!image?.json.config)
      throw new RunError(`${listRef}: entry ${platformOf(e.platform)} (${e.digest}) is not an image manifest in the registry`);
    const config = await client.getBlobJson<ImageConfig>(repository, image.json.config.digest);
    if (config.os !== e.platform.os || config.architecture !== e.platform.architecture) {
      throw new RunError(`${listRef}: entry ${platformOf(e.platform)} points at a ${config.os}/${config.architecture} image`);
    }
    found.push(`${e.platform.os}/${e.platform.architecture}`);
  }
  const missing = platforms.filter((p) => !found.includes(p.split('/').slice(0, 2).join('/')));
  if (missing.length) throw new RunError(`${listRef} lacks ${missing.join(', ')} (has ${found.join(', ') || 'nothing'})`);
  return { digest: m.digest, platforms: found };
}
