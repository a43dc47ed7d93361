/** The build plan: a plain value (printable, diffable, unit-testable) that every driver executes. */
import type { Arch } from '../config/platform.js';
import type { Platform } from '../config/model.js';

export type DriverName = 'docker' | 'buildx';
export type CacheMode = 'registry' | 'none';
/** Network of RUN steps: the engine's default (bridge), the build host's own (a proxy or apt cache on its loopback), or none. */
export const NETWORK_MODES = ['default', 'host', 'none'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export interface PlanTarget {
  /** `featured/base@linux/amd64`; with several lineups in one plan `ascend:featured/base@linux/arm64`. */
  id: string;
  flavor: string;
  /** Set when several lineups share the plan (the id then carries it too). */
  lineup?: string;
  platform: Platform;
  arch: Arch;
  /** The per-arch tag (`…:featured-base-v1-amd64`). */
  tag: string;
  /** Generated build context (see `idekube generate`). */
  contextDir: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** Target ids this one builds FROM (its parent, same platform). */
  dependsOn: string[];
  cacheFrom: string[];
  cacheTo?: string;
}

export interface PlanImage {
  flavor: string;
  /** The lineup it is built for (when lineups are selected). */
  lineup?: string;
  /** Its identity when several lineups share the plan (`ascend:featured/base`); else the flavor is. */
  id?: string;
  /** The multi-arch tag (manifest list). */
  ref: string;
  aliases: string[];
  platforms: Platform[];
  targets: string[];
  parent?: string;
  /** Why it is in the plan: asked for, or a parent of something asked for. */
  reason: 'selected' | 'parent';
}

export interface Plan {
  schema: 1;
  root: string;
  profile: string | null;
  /** The tag scheme, when not the default v0.4. */
  scheme?: 'v0.8';
  /** The lineups planned (absent: none selected, the catalog-wide plan), each with its profile and platforms. */
  lineups?: Array<{ name: string; profile: string | null; platforms: Platform[] }>;
  driver: DriverName;
  gitTag: string;
  push: boolean;
  /** Push per-arch tags only; the lists are written later by `idekube manifest` (CI with a runner per arch). */
  archOnly: boolean;
  cache: CacheMode;
  network: NetworkMode;
  /** Extra CA certificates RUN steps trust (the build secret idekube-ca; never in the image or a cache key). */
  extraCaCerts?: { path: string; from: string; certificates: number };
  platforms: Platform[];
  images: PlanImage[];
  /** In dependency order (parents first). */
  targets: PlanTarget[];
  /** Things the user should know (skipped platforms, git notes). */
  notes: string[];
}

/** An image's identity in its plan: the lineup-qualified id when several lineups share the plan, else the flavor. */
export function imageId(image: Pick<PlanImage, 'flavor' | 'id'>): string {
  return image.id ?? image.flavor;
}
