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

/** What every flavor's step of the plan reads, and the notes and target ids it adds to. */
interface PlanContext {
  project: Project;
  opts: PlanOptions;
  requested: Platform[];
  selected: Set<string>;
  facts: SourceFacts;
  notes: string[];
  targetIds: Set<string>;
}

export function makePlan(project: Project, opts: PlanOptions): Plan {
  const selected = new Set(opts.flavors);
  const wanted = withAncestors(project, opts.flavors);
  const notes = [...project.version.notes];
  const facts = opts.facts ?? sourceFacts(project.root);
  const pc: PlanContext = { project, opts, requested: opts.platforms ?? [...PLATFORMS], selected, facts, notes, targetIds: new Set() };
  const images: PlanImage[] = [];
  const targets: PlanTarget[] = [];
  for (const id of project.catalog.order) {
    if (!wanted.has(id)) continue;
    const platforms = platformsToBuild(pc, id);
    if (!platforms) continue;
    // before the image's names: a missing required arg is reported first
    const args = requireValues(id, resolveArgs(project.catalog, project.layered, id));
    const image = planImage(pc, id, platforms);
    targets.push(...planTargets(pc, image, args));
    images.push(image);
  }
  return planOf(pc, images, targets);
}

/** A child is built from its parent as just built: ancestors join the plan. */
function withAncestors(project: Project, flavors: string[]): Set<string> {
  const { catalog } = project;
  const wanted = new Set<string>();
  // up from each selected flavor to the first ancestor already wanted: linear in the catalog, whatever the depth
  for (const id of flavors) {
    for (let f = catalog.flavors.get(id); f && !wanted.has(f.id); ) {
      wanted.add(f.id);
      const p = parentOf(f);
      f = p ? catalog.flavors.get(p) : undefined;
    }
  }
  return wanted;
}

const qualified = (lineup: PlanOptions['lineup'], id: string): string => (lineup?.qualify ? `${lineup.name}:${id}` : id);

/** The platforms a flavor is built for here (undefined: none, noted); throws when a push would publish a short list. */
function platformsToBuild(pc: PlanContext, id: string): Platform[] | undefined {
  const { catalog } = pc.project;
  const { lineup } = pc.opts;
  const { requested } = pc;
  // what an image declares: its flavor's platforms, within its lineup's
  const declared = platformsOf(catalog, id).filter((p) => !lineup || lineup.platforms.includes(p));
  const platforms = declared.filter((p) => requested.includes(p));
  const skipped = declared.filter((p) => !requested.includes(p));
  if (!platforms.length) {
    pc.notes.push(
      `${id}: skipped, it builds ${platformsOf(catalog, id).join(', ')}${lineup ? ` (lineup ${lineup.name}: ${declared.join(', ') || 'none of them'})` : ''} and none of them was asked for`,
    );
    return undefined;
  }
  if (pc.opts.push && !pc.opts.archOnly && skipped.length) {
    // a manifest list that lacks a declared platform is never published
    throw new InputError(
      `publishing ${id}${lineup ? ` (lineup ${lineup.name})` : ''} for ${platforms.join(', ')} would write a list without ${skipped.join(', ')}, which it declares`,
      undefined,
      `build every platform (--platform ${declared.join(',')}), or push per-arch tags with --arch-only and join them later with idekube manifest`,
    );
  }
  const unsupported = requested.filter((p) => !declared.includes(p));
  if (unsupported.length && pc.selected.has(id))
    pc.notes.push(`${id}: not built for ${unsupported.join(', ')} (the flavor does not support it)`);
  return platforms;
}

/** The image of one flavor, its targets still empty (planTargets fills them). */
function planImage(pc: PlanContext, id: string, platforms: Platform[]): PlanImage {
  const { naming, version } = pc.project;
  const { lineup } = pc.opts;
  const parent = parentOf(pc.project.catalog.flavors.get(id)!);
  const ref = imageRef(id, naming);
  const aliases = aliasTags(id, naming, version, pc.opts.aliases);
  if (aliases.skipped && pc.selected.has(id)) pc.notes.push(`${id}: ${aliases.skipped}`);
  return {
    flavor: id,
    ...(lineup ? { lineup: lineup.name } : {}),
    ...(lineup?.qualify ? { id: qualified(lineup, id) } : {}),
    ref,
    aliases: aliases.tags,
    platforms,
    targets: [],
    ...(parent ? { parent } : {}),
    reason: pc.selected.has(id) ? 'selected' : 'parent',
  };
}

function imageLabels(pc: PlanContext, id: string): Record<string, string> {
  const { naming } = pc.project;
  const { facts } = pc;
  const flavor = pc.project.catalog.flavors.get(id)!;
  return {
    'org.opencontainers.image.title': `${naming.name} ${id}`,
    'org.opencontainers.image.version': naming.gitTag,
    ...(facts.revision ? { 'org.opencontainers.image.revision': facts.revision } : {}),
    ...(facts.created ? { 'org.opencontainers.image.created': facts.created } : {}),
    ...(facts.source ? { 'org.opencontainers.image.source': facts.source } : {}),
    ...(flavor.description ? { 'org.opencontainers.image.description': flavor.description } : {}),
  };
}

/** One target per platform of the image; records their ids on the image and in pc.targetIds. */
function planTargets(pc: PlanContext, image: PlanImage, args: Record<string, string>): PlanTarget[] {
  const { naming } = pc.project;
  const { opts } = pc;
  const { lineup } = opts;
  const id = image.flavor;
  const parent = image.parent;
  const labels = imageLabels(pc, id);
  const targets: PlanTarget[] = [];
  for (const platform of image.platforms) {
    const arch = archOf(platform);
    const parentTarget = parent ? `${qualified(lineup, parent)}@${platform}` : undefined;
    if (parentTarget && !pc.targetIds.has(parentTarget)) {
      throw new InputError(
        `${id} needs its parent ${parent} for ${platform}, which is not in the plan`,
        undefined,
        `add ${platform} to --platform, or build ${parent} for it`,
      );
    }
    const cache = cacheRef(id, naming, arch);
    const t: PlanTarget = {
      id: `${qualified(lineup, id)}@${platform}`,
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
    pc.targetIds.add(t.id);
    image.targets.push(t.id);
  }
  return targets;
}

function planOf(pc: PlanContext, images: PlanImage[], targets: PlanTarget[]): Plan {
  const { project, opts } = pc;
  const { lineup } = opts;
  return {
    schema: 1,
    root: project.root,
    profile: project.layered.profile?.name ?? null,
    ...(project.scheme !== 'v0.4' ? { scheme: project.scheme } : {}),
    ...(lineup
      ? { lineups: [{ name: lineup.name, profile: project.layered.profile?.name ?? null, platforms: [...lineup.platforms] }] }
      : {}),
    driver: opts.driver,
    gitTag: project.naming.gitTag,
    push: opts.push,
    archOnly: Boolean(opts.archOnly),
    cache: opts.cache,
    network: opts.network ?? 'default',
    platforms: pc.requested,
    images,
    targets,
    notes: pc.notes,
  };
}
