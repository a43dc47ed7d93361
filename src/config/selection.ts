/**
 * What a command works on: the flavors named (or `--all`), in the lineups selected, each lineup with its own
 * project (loaded with the lineup's profile: its BASE_IMAGE and TAG_POSTFIX) and platforms. Without a lineup it is
 * today's catalog-wide selection. The parts become one plan (plan/merge.ts).
 */
import { InputError } from './errors.js';
import { platformsOf } from './catalog.js';
import { known } from './guards.js';
import { LINEUP_KEY, lineupFlavors, missingNote, selectLineups, type Lineup } from './lineups.js';
import type { Platform } from './model.js';
import { selectFlavors, type Project } from './project.js';
import { PLATFORMS } from './platform.js';
import { argsFilePresent } from './sources.js';
import { note } from './warnings.js';

export interface Part {
  /** Absent: no lineup selected (the whole catalog, as without lineups). */
  lineup?: Lineup;
  project: Project;
  /** The flavors asked for in this part, in catalog order (parents join later, in the plan). */
  flavors: string[];
  /** Platforms to build: what was asked for, within the lineup's (undefined: all the flavors declare). */
  platforms?: Platform[];
}

export interface Selection {
  parts: Part[];
  /** Several lineups share one plan: image and target ids carry the lineup's name. */
  qualify: boolean;
}

export interface SelectionInputs {
  names: string[];
  all: boolean;
  env: NodeJS.ProcessEnv;
  /** `--lineup` as given. */
  lineup?: string;
  /** `--profile`, when given (IDEKUBE_PROFILE is read from env). */
  profile?: string;
  /** `--platform` (or IDEKUBE_PLATFORMS), when given, and which of the two it was. */
  platforms?: Platform[];
  platformsVia?: string;
}

/** Loads the project with a profile (null: .dockerargs alone), the other inputs as for the base project. */
export type ProfileLoader = (profile: string | null) => Promise<Project>;

export async function selectParts(base: Project, load: ProfileLoader, inputs: SelectionInputs): Promise<Selection> {
  const { lineups } = selectLineups(base.scheme, {
    ...(inputs.lineup !== undefined ? { flag: inputs.lineup } : {}),
    env: inputs.env,
    base: base.layered.base,
    ...(base.layered.profile ? { profile: base.layered.profile } : {}),
  });
  // names are checked (and BRANCH read) as without lineups: an unknown flavor is the same error
  const named = selectFlavors(base, inputs.names, { all: inputs.all, env: inputs.env });
  if (!lineups.length)
    return { parts: [{ project: base, flavors: named, ...(inputs.platforms ? { platforms: inputs.platforms } : {}) }], qualify: false };

  const platformsOfLineup = new Map(
    lineups.map((l) => [l, inputs.platforms ? inputs.platforms.filter((p) => l.platforms.includes(p)) : [...l.platforms]]),
  );
  if (inputs.platforms) {
    const excluded = inputs.platforms.filter((p) => !lineups.some((l) => l.platforms.includes(p)));
    if (excluded.length) {
      const builds = lineups.map((l) => `lineup ${l.name} builds ${l.platforms.join(', ')} only`).join('; ');
      const other = PLATFORMS.filter((p) => excluded.includes(p));
      throw new InputError(
        `${inputs.platformsVia ?? '--platform'} asks for ${excluded.join(', ')}, which the selected lineup${lineups.length > 1 ? 's exclude' : ' excludes'}: ${builds}`,
        undefined,
        `drop ${other.join(', ')} from ${inputs.platformsVia ?? '--platform'}, or select a lineup that builds ${other.length > 1 ? 'them' : 'it'}`,
      );
    }
  }

  const projects = await lineupProjects(base, load, lineups, inputs);
  const parts: Part[] = [];
  const placed = new Map<string, Lineup[]>();
  if (!inputs.all) {
    // a flavor goes to the selected lineups that list it; one that none lists builds in each of them (named only)
    for (const id of named) {
      const listing = lineups.filter((l) => l.flavors.includes(id));
      placed.set(id, listing.length ? listing : lineups);
    }
  }
  const buildable = (id: string, l: Lineup) => platformsOf(base.catalog, id).some((p) => known(platformsOfLineup, l).includes(p));
  for (const id of named) {
    if (inputs.all) break;
    const where = known(placed, id);
    if (where.some((l) => buildable(id, l))) continue;
    const flavorBuilds = platformsOf(base.catalog, id).join(', ');
    throw new InputError(
      `${id} builds ${flavorBuilds} only, and ${where.map((l) => `lineup ${l.name} ${inputs.platforms ? `(with ${inputs.platformsVia ?? '--platform'}) ` : ''}builds ${known(platformsOfLineup, l).join(', ') || 'nothing'}`).join('; ')}`,
      undefined,
      `select a lineup that builds ${flavorBuilds}, or leave ${id} out`,
    );
  }
  for (const lineup of lineups) {
    const platforms = known(platformsOfLineup, lineup);
    if (!platforms.length) {
      note(
        `lineup ${lineup.name}: skipped, it builds ${lineup.platforms.join(', ')} only and ${inputs.platformsVia ?? '--platform'} asks for ${inputs.platforms!.join(', ')}`,
      );
      continue;
    }
    let flavors: string[];
    if (inputs.all) {
      const { present, missing } = lineupFlavors(lineup, base.catalog);
      if (missing.length) note(missingNote(lineup, missing));
      flavors = present;
    } else {
      flavors = named.filter((id) => known(placed, id).includes(lineup) && buildable(id, lineup));
      for (const id of named.filter((x) => known(placed, x).includes(lineup) && !buildable(x, lineup)))
        note(
          `${id}: not built in lineup ${lineup.name} (it builds ${platformsOf(base.catalog, id).join(', ')}, the lineup ${platforms.join(', ')})`,
        );
    }
    if (flavors.length) parts.push({ lineup, project: known(projects, lineup), flavors, platforms });
  }
  return { parts, qualify: lineups.length > 1 };
}

/**
 * Each lineup's project: loaded with its profile. `--profile` (or IDEKUBE_PROFILE) replaces the profile of a
 * single lineup (a mirror's profile building the same list); with several lineups each keeps its own.
 */
async function lineupProjects(
  base: Project,
  load: ProfileLoader,
  lineups: Lineup[],
  inputs: SelectionInputs,
): Promise<Map<Lineup, Project>> {
  const given = inputs.profile ?? (inputs.env.IDEKUBE_PROFILE || undefined);
  const via = inputs.profile !== undefined ? '--profile' : 'IDEKUBE_PROFILE';
  const out = new Map<Lineup, Project>();
  if (given !== undefined) {
    const differing = lineups.filter((l) => l.profile !== given);
    if (lineups.length > 1 && differing.length) {
      throw new InputError(
        `${via} ${given} cannot apply to several lineups: ${lineups.map((l) => `${l.name} builds with ${l.profile ? `profile ${l.profile}` : '.dockerargs alone'}`).join(', ')}`,
        undefined,
        `drop ${via} (each lineup uses its own profile), or select one lineup`,
      );
    }
    const lineup = lineups[0]!;
    // the profile that names its own lineup (IDEKUBE_LINEUP in it) is the usual way; anything else is worth a note
    const namedByProfile = base.layered.profile?.entries.some((e) => e.key === LINEUP_KEY);
    if (lineups.length === 1 && lineup.profile !== given && !namedByProfile)
      note(
        `lineup ${lineup.name} builds with profile ${given} (from ${via}), not its own ${lineup.profile ?? '(none: .dockerargs alone)'}`,
      );
    for (const l of lineups) out.set(l, base);
    return out;
  }
  for (const l of lineups) {
    if (l.profile === (base.layered.profile?.name ?? null)) {
      out.set(l, base);
      continue;
    }
    if (l.profile !== null && !argsFilePresent(base.root, `.dockerargs.${l.profile}`)) {
      throw new InputError(
        `lineup ${l.name} builds with the profile ${l.profile}, and .dockerargs.${l.profile} does not exist`,
        undefined,
        `create .dockerargs.${l.profile} with its BASE_IMAGE and TAG_POSTFIX (e.g. TAG_POSTFIX=-${l.profile}), or select another lineup`,
      );
    }
    out.set(l, await load(l.profile));
  }
  return out;
}
