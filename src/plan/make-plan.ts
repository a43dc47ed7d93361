/** files → model → plan: computes targets × platforms, tags, args, dependencies and cache refs. No engine. */
import { join } from 'node:path';
import { platformsOf } from '../config/catalog.js';
import { InputError } from '../config/errors.js';
import { sourceFacts, type SourceFacts } from '../config/git.js';
import { parentOf, type Platform } from '../config/model.js';
import type { Project } from '../config/project.js';
import { requireValues, resolveArgs } from '../config/resolve.js';
import { PLATFORMS, archOf } from '../config/platform.js';
import { aliasTags, cacheRef, imageRef, type AliasKind } from '../config/tags.js';
import { PARENT_ARG } from '../generate/flavor.js';
import type { CacheMode, DriverName, NetworkMode, Plan, PlanImage, PlanTarget } from './types.js';

export interface PlanOptions {
  flavors: string[];
  platforms?: Platform[];
  driver: DriverName;
  push: boolean;
  archOnly?: boolean;
  cache: CacheMode;
  /** Network of RUN steps (default: the engine's). */
  network?: NetworkMode;
  aliases: AliasKind[];
  /** Folder holding generated contexts (`<flavor>/<variant>` below it). */
  contextRoot: string;
  /** OCI source facts; read from git when absent (tests pin them). */
  facts?: SourceFacts;
  /**
   * The lineup this plan is for: its platforms bound what each flavor declares (a list then holds exactly those),
   * and with `qualify` (several lineups in one plan) image and target ids carry its name: `ascend:featured/base`.
   */
  lineup?: { name: string; platforms: readonly Platform[]; qualify: boolean };
}

// platform lists are parsed by platform.ts; re-exported for the commands that parse them through the plan
export { parsePlatforms } from '../config/platform.js';

export function makePlan(project: Project, opts: PlanOptions): Plan {
  const { catalog, naming } = project;
  const requested = opts.platforms ?? [...PLATFORMS];
  // A child is built from its parent as just built: ancestors join the plan.
  const selected = new Set(opts.flavors);
  const wanted = new Set<string>();
  // up from each selected flavor to the first ancestor already wanted: linear in the catalog, whatever the depth
  for (const id of opts.flavors) {
    for (let f = catalog.flavors.get(id); f && !wanted.has(f.id); ) {
      wanted.add(f.id);
      const p = parentOf(f);
      f = p ? catalog.flavors.get(p) : undefined;
    }
  }
  const notes = [...project.version.notes];
  const facts = opts.facts ?? sourceFacts(project.root);
  const images: PlanImage[] = [];
  const targets: PlanTarget[] = [];
  const targetIds = new Set<string>();
  const lineup = opts.lineup;
  const qualified = (id: string) => (lineup?.qualify ? `${lineup.name}:${id}` : id);
  // what an image declares: its flavor's platforms, within its lineup's
  const declaredOf = (id: string) => platformsOf(catalog, id).filter((p) => !lineup || lineup.platforms.includes(p));
  for (const id of catalog.order) {
    if (!wanted.has(id)) continue;
    const flavor = catalog.flavors.get(id)!;
    const parent = parentOf(flavor);
    const declared = declaredOf(id);
    const platforms = declared.filter((p) => requested.includes(p));
    const skipped = declared.filter((p) => !requested.includes(p));
    if (!platforms.length) {
      notes.push(`${id}: skipped, it builds ${platformsOf(catalog, id).join(', ')}${lineup ? ` (lineup ${lineup.name}: ${declared.join(', ') || 'none of them'})` : ''} and none of them was asked for`);
      continue;
    }
    if (opts.push && !opts.archOnly && skipped.length) {
      // a manifest list that lacks a declared platform is never published
      throw new InputError(`publishing ${id}${lineup ? ` (lineup ${lineup.name})` : ''} for ${platforms.join(', ')} would write a list without ${skipped.join(', ')}, which it declares`, undefined, `build every platform (--platform ${declared.join(',')}), or push per-arch tags with --arch-only and join them later with idekube manifest`);
    }
    const unsupported = requested.filter((p) => !declared.includes(p));
    if (unsupported.length && selected.has(id)) notes.push(`${id}: not built for ${unsupported.join(', ')} (the flavor does not support it)`);
    const args = requireValues(id, resolveArgs(catalog, project.layered, id));
    const ref = imageRef(id, naming);
    const aliases = aliasTags(id, naming, project.version, opts.aliases);
    if (aliases.skipped && selected.has(id)) notes.push(`${id}: ${aliases.skipped}`);
    const labels: Record<string, string> = {
      'org.opencontainers.image.title': `${naming.name} ${id}`,
      'org.opencontainers.image.version': naming.gitTag,
      ...(facts.revision ? { 'org.opencontainers.image.revision': facts.revision } : {}),
      ...(facts.created ? { 'org.opencontainers.image.created': facts.created } : {}),
      ...(facts.source ? { 'org.opencontainers.image.source': facts.source } : {}),
      ...(flavor.description ? { 'org.opencontainers.image.description': flavor.description } : {}),
    };
    const image: PlanImage = {
      flavor: id,
      ...(lineup ? { lineup: lineup.name } : {}),
      ...(lineup?.qualify ? { id: qualified(id) } : {}),
      ref,
      aliases: aliases.tags,
      platforms,
      targets: [],
      ...(parent ? { parent } : {}),
      reason: selected.has(id) ? 'selected' : 'parent',
    };
    for (const platform of platforms) {
      const arch = archOf(platform);
      const parentTarget = parent ? `${qualified(parent)}@${platform}` : undefined;
      if (parentTarget && !targetIds.has(parentTarget)) {
        throw new InputError(`${id} needs its parent ${parent} for ${platform}, which is not in the plan`, undefined, `add ${platform} to --platform, or build ${parent} for it`);
      }
      const cache = cacheRef(id, naming, arch);
      const t: PlanTarget = {
        id: `${qualified(id)}@${platform}`,
        flavor: id,
        ...(lineup?.qualify ? { lineup: lineup.name } : {}),
        platform,
        arch,
        tag: imageRef(id, naming, { arch }),
        contextDir: join(opts.contextRoot, id),
        buildArgs: { ...args, ...(parent ? { [PARENT_ARG]: imageRef(parent, naming, { arch }) } : {}) },
        labels,
        dependsOn: parentTarget ? [parentTarget] : [],
        cacheFrom: opts.cache === 'registry' ? [cache] : [],
        ...(opts.cache === 'registry' && opts.push ? { cacheTo: cache } : {}),
      };
      targets.push(t);
      targetIds.add(t.id);
      image.targets.push(t.id);
    }
    images.push(image);
  }
  return {
    schema: 1,
    root: project.root,
    profile: project.layered.profile?.name ?? null,
    ...(project.scheme !== 'v0.4' ? { scheme: project.scheme } : {}),
    ...(lineup ? { lineups: [{ name: lineup.name, profile: project.layered.profile?.name ?? null, platforms: [...lineup.platforms] }] } : {}),
    driver: opts.driver,
    gitTag: naming.gitTag,
    push: opts.push,
    archOnly: Boolean(opts.archOnly),
    cache: opts.cache,
    network: opts.network ?? 'default',
    platforms: requested,
    images,
    targets,
    notes,
  };
}
