/**
 * Promotion: a published manifest list written again under its stable alias, by digest, without rebuilding (what
 * upstream's tag-stable.sh does with `imagetools create`). The same bytes are PUT, so the alias has the source's
 * digest. Before anything is written, each platform of the list is compared with what was published for it: the
 * per-arch tag idekube pushed (`…-amd64`). A list whose entry differs from its per-arch tag (a per-arch tag pushed
 * again without rewriting the list, or a list edited by hand) is refused.
 */
import { createHash } from 'node:crypto';
import { RunError } from '../config/errors.js';
import type { RegistryClient } from './client.js';
import { platformSpec } from './manifest-list.js';
import { parseRef } from '../config/image-ref.js';
import { platformOf, type Descriptor, type ImageConfig, type PlatformDescriptor } from './types.js';

export interface PromotionRequest {
  /** The published list (version or staging tag). */
  source: string;
  /** Platforms the image declares, each with its per-arch tag. */
  platforms: Array<{ platform: string; perArch: string }>;
  /** Alias references to write (same repository as the source). */
  aliases: string[];
}

export interface PlatformCheck {
  platform: string;
  /** The list's entry for it. */
  digest: string;
  perArch: string;
  /** What the per-arch tag holds now; absent when there is no per-arch tag (a buildx push writes lists only). */
  perArchDigest?: string;
}

export interface CheckedPromotion extends PromotionRequest {
  digest: string;
  mediaType: string;
  body: Buffer;
  checks: PlatformCheck[];
}

const isAttestation = (d: Descriptor) =>
  d.platform?.os === 'unknown' || d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';

/** The image a per-arch tag names: itself, or the one image of a single-platform index (buildx, containerd store). */
async function perArchImageDigest(client: RegistryClient, ref: string): Promise<string | undefined> {
  const { repository, reference } = parseRef(ref);
  const m = await client.getManifest(repository, reference);
  if (!m) return undefined;
  if (!m.json.manifests) return m.digest || digestOf(m.body);
  const images = m.json.manifests.filter((d) => !isAttestation(d));
  if (images.length !== 1)
    throw new RunError(`${ref} is a list of ${images.length} images, not one platform's image`, {
      fix: 'push per-arch tags with idekube publish (or build --push --arch-only)',
    });
  return images[0]!.digest;
}

function digestOf(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Reads the source list and checks it; throws (nothing written) when it cannot be promoted. */
export async function checkPromotion(client: RegistryClient, req: PromotionRequest): Promise<CheckedPromotion> {
  const { repository, reference } = parseRef(req.source);
  for (const alias of req.aliases) {
    if (parseRef(alias).repository !== repository)
      throw new RunError(`${alias} is not in the repository of ${req.source}`, {
        fix: 'an alias is written in the repository of its list',
      });
  }
  const m = await client.getManifest(repository, reference);
  if (!m)
    throw new RunError(`${req.source} is not in the registry`, {
      fix: 'publish it first (idekube publish …, with the same --git-tag/--staging), then promote',
    });
  if (!m.json.manifests)
    throw new RunError(`${req.source} is a single image, not a manifest list`, {
      fix: 'promote what idekube publish wrote (its list), or write the list with idekube manifest',
    });
  const entries = m.json.manifests.filter((d): d is PlatformDescriptor => !isAttestation(d) && d.platform !== undefined);
  const checks: PlatformCheck[] = [];
  const problems: string[] = [];
  for (const { platform, perArch } of req.platforms) {
    const want = platformSpec(platform);
    const entry = entries.find((e) => e.platform.os === want.os && e.platform.architecture === want.architecture);
    if (!entry) {
      problems.push(`it lacks ${platform} (has ${entries.map((e) => platformOf(e.platform)).join(', ') || 'nothing'})`);
      continue;
    }
    // the entry's image really is that platform (as publishing checks before writing a list)
    const image = await client.getManifest(repository, entry.digest);
    if (!image?.json.config) {
      problems.push(`its ${platform} entry ${entry.digest} is not in the registry`);
      continue;
    }
    const config = await client.getBlobJson<ImageConfig>(repository, image.json.config.digest);
    if (config.os !== want.os || config.architecture !== want.architecture)
      problems.push(`its ${platform} entry is a ${config.os}/${config.architecture} image`);
    const perArchDigest = await perArchImageDigest(client, perArch);
    if (perArchDigest !== undefined && perArchDigest !== entry.digest) {
      problems.push(`${platform} is ${entry.digest} in the list, but ${perArch} (what was published for it) is now ${perArchDigest}`);
    }
    checks.push({ platform, digest: entry.digest, perArch, ...(perArchDigest !== undefined ? { perArchDigest } : {}) });
  }
  if (problems.length) {
    throw new RunError(`${req.source} cannot be promoted: ${problems.join('; ')}`, {
      fix: 'publish the image again (idekube publish), or rewrite its list from the per-arch tags (idekube manifest), then promote',
    });
  }
  return { ...req, digest: m.digest || digestOf(m.body), mediaType: m.mediaType, body: m.body, checks };
}

/** Writes each alias with the list's own bytes, then reads it back: it must have the source's digest. */
export async function writePromotion(client: RegistryClient, p: CheckedPromotion): Promise<void> {
  const { repository } = parseRef(p.source);
  for (const alias of p.aliases) {
    const reference = parseRef(alias).reference;
    await client.putManifest(repository, reference, p.mediaType, p.body);
    const served = await client.getManifest(repository, reference);
    const digest = served ? served.digest || digestOf(served.body) : 'missing';
    if (digest !== p.digest)
      throw new RunError(`${alias} is ${digest} after writing it, not ${p.digest} (the registry changed the manifest)`, {
        fix: 'check the registry; promote again',
      });
  }
}
