/**
 * Lineups: a base (the profile whose .dockerargs give BASE_IMAGE and TAG_POSTFIX), a set of flavors and the
 * platforms they build for — what the original Makefile's BRANCHES / BRANCHES_ASCEND lists (v0.4) and the v0.8
 * bake file's LINEUPS matrix (universal / ascend) express. Each scheme has its own built-in lineups. Selected
 * with `--lineup a[,b]`, env IDEKUBE_LINEUP, or `IDEKUBE_LINEUP=` in a profile (or .dockerargs); none selected
 * keeps the catalog-wide behaviour (`--all` = every flavor).
 */
import type { ArgEntry } from './dockerargs.js';
import { InputError, listSome, quoteShort, type Location } from './errors.js';
import type { Catalog, Platform } from './model.js';
import { SCHEMES, type Scheme } from './schemes.js';
import { closest } from './warnings.js';

export interface Lineup {
  name: string;
  scheme: Scheme;
  /** The .dockerargs profile of its base; null: no profile (.dockerargs alone). */
  profile: string | null;
  /** In build order as the original lists them; flavors not in the catalog yet are reported, never built. */
  flavors: readonly string[];
  platforms: readonly Platform[];
  description: string;
}

const BOTH: readonly Platform[] = ['linux/amd64', 'linux/arm64'];

/**
 * Built-in lineups. featured/isaac is in none (a huge NVIDIA image the original never built by default): it builds
 * only when named. v0.8's agent/openclaw and agent/hermes are left out: hermes follows a moving branch upstream.
 */
export const BUILTIN_LINEUPS: readonly Lineup[] = [
  {
    name: 'base',
    scheme: 'v0.4',
    profile: null,
    // Makefile BRANCHES ("order is important")
    flavors: [
      'featured/base',
      'featured/speit',
      'featured/dind',
      'featured/ros2',
      'coder/base',
      'coder/lite',
      'jupyter/base',
      'jupyter/speit',
    ],
    platforms: BOTH,
    description: "v0.4's BRANCHES (make build_all)",
  },
  {
    name: 'ascend',
    scheme: 'v0.4',
    profile: 'ascend',
    // Makefile BRANCHES_ASCEND; v0.4 built every branch for both ARCHS
    flavors: ['featured/base', 'featured/speit-ascendai', 'jupyter/base', 'jupyter/speit-ascendai'],
    platforms: BOTH,
    description: "v0.4's BRANCHES_ASCEND (make build_all_ascend)",
  },
  {
    name: 'universal',
    scheme: 'v0.8',
    profile: null,
    flavors: [
      'featured/base',
      'featured/speit',
      'featured/speit-ai',
      'featured/dind',
      'featured/kathara',
      'featured/ros2',
      'coder/base',
      'coder/conda',
      'jupyter/base',
      'jupyter/speit-ai',
      'agent/base',
    ],
    platforms: BOTH,
    description: "v0.8's universal lineup (ubuntu 24.04)",
  },
  {
    name: 'ascend',
    scheme: 'v0.8',
    profile: 'ascend',
    flavors: ['featured/base', 'featured/speit-ai', 'jupyter/base', 'jupyter/speit-ai'],
    platforms: ['linux/arm64'],
    description: "v0.8's ascend lineup (CANN, arm64 only)",
  },
];

export function lineupsOf(scheme: Scheme): Lineup[] {
  return BUILTIN_LINEUPS.filter((l) => l.scheme === scheme);
}

/** The settings key (a profile's or .dockerargs') naming the lineup(s) that profile builds. */
export const LINEUP_KEY = 'IDEKUBE_LINEUP';

export interface LineupInputs {
  /** `--lineup` as given (comma-separated). */
  flag?: string;
  env: NodeJS.ProcessEnv;
  base: ArgEntry[];
  profile?: { entries: ArgEntry[] };
}

/** Where the names came from, for messages, with the file line when a settings file named them. */
interface Named {
  value: string;
  from: string;
  location?: Location;
}

function lineupNames(inputs: LineupInputs): Named | undefined {
  if (inputs.flag !== undefined) return { value: inputs.flag, from: '--lineup' };
  if (inputs.env[LINEUP_KEY]) return { value: inputs.env[LINEUP_KEY], from: `env ${LINEUP_KEY}` };
  // the profile's own key wins over the project's
  for (const entries of [inputs.profile?.entries ?? [], inputs.base]) {
    const e = [...entries].reverse().find((x) => x.key === LINEUP_KEY);
    if (e) return { value: e.value, from: `${e.file}:${e.line}`, location: { file: e.file, line: e.line } };
  }
  return undefined;
}

/** The lineups selected for this invocation (none: catalog-wide behaviour), checked against the scheme. */
export function selectLineups(scheme: Scheme, inputs: LineupInputs): { lineups: Lineup[]; from?: string } {
  const named = lineupNames(inputs);
  if (!named) return { lineups: [] };
  const known = lineupsOf(scheme);
  const names = [
    ...new Set(
      named.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const via = named.location ? '' : ` (from ${named.from})`;
  if (!names.length)
    throw new InputError(
      `${named.from === '--lineup' ? '--lineup' : LINEUP_KEY} is empty${via}`,
      named.location,
      `name a lineup of scheme ${scheme}: ${known.map((l) => l.name).join(', ')}`,
    );
  const lineups: Lineup[] = [];
  for (const name of names) {
    const hit = known.find((l) => l.name === name);
    if (hit) {
      lineups.push(hit);
      continue;
    }
    const other = SCHEMES.filter((s) => s !== scheme).find((s) => lineupsOf(s).some((l) => l.name === name));
    const near = closest(
      name,
      known.map((l) => l.name),
    );
    throw new InputError(
      `unknown lineup ${quoteShort(name)}${via} in tag scheme ${scheme}`,
      named.location,
      other
        ? `${name} is a lineup of scheme ${other}: add --scheme ${other}, or use one of: ${known.map((l) => l.name).join(', ')}`
        : `${near ? `did you mean ${near}? ` : ''}use one of: ${known.map((l) => `${l.name} (${l.description})`).join(', ')}`,
    );
  }
  return { lineups, from: named.from };
}

/** A lineup's flavors that the catalog has, in catalog order, and the ones it does not have yet. */
export function lineupFlavors(lineup: Lineup, catalog: Pick<Catalog, 'order' | 'flavors'>): { present: string[]; missing: string[] } {
  const wanted = new Set(lineup.flavors);
  return { present: catalog.order.filter((id) => wanted.has(id)), missing: lineup.flavors.filter((id) => !catalog.flavors.has(id)) };
}

/** `lineup ascend (v0.8): featured/speit-ai, jupyter/speit-ai not in this catalog yet` — a note, never an error. */
export function missingNote(lineup: Lineup, missing: string[]): string {
  return `lineup ${lineup.name} (${lineup.scheme}) names ${listSome(missing)}: not in this catalog yet, skipped`;
}
