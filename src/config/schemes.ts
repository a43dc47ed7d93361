/**
 * Tag schemes: which built-in lineups exist and how images are named. `v0.4` is the original project's one
 * repository with the flavor in the tag; `v0.8` is idekube-project's repository per image (tags-v08.ts).
 * Chosen by `--scheme`, env IDEKUBE_SCHEME, or `IDEKUBE_SCHEME=` in the project's `.dockerargs`; default v0.4.
 */
import type { ArgEntry } from './dockerargs.js';
import { InputError, quoteShort, type Location } from './errors.js';
import { isOneOf } from './guards.js';

export const SCHEMES = ['v0.4', 'v0.8'] as const;
export type Scheme = (typeof SCHEMES)[number];
export const DEFAULT_SCHEME: Scheme = 'v0.4';

/** The project config key (in `.dockerargs`) that names the scheme. */
export const SCHEME_KEY = 'IDEKUBE_SCHEME';

export interface SchemeChoice {
  scheme: Scheme;
  /** Where it came from, for messages: `--scheme`, `env IDEKUBE_SCHEME`, `.dockerargs:3`, `default`. */
  from: string;
}

function parse(value: string, from: string, location?: Location): Scheme {
  if (isOneOf(SCHEMES, value)) return value;
  // `0.8` and `v08` are the usual slips; say which one was meant
  const near = SCHEMES.find((s) => s.replace(/[v.]/g, '') === value.replace(/[v.]/g, ''));
  throw new InputError(
    `unknown tag scheme ${quoteShort(value)}${location ? '' : ` (from ${from})`}`,
    location,
    `use ${near ? `${near} (did you mean it?)` : `one of: ${SCHEMES.join(', ')}`}`,
  );
}

/**
 * The scheme of this invocation. A profile may not set it: several lineups (each with its own profile) share one
 * plan and so one naming, which a per-profile scheme would split.
 */
export function resolveScheme(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  base: ArgEntry[],
  profile?: { entries: ArgEntry[] },
): SchemeChoice {
  const inProfile = profile?.entries.find((e) => e.key === SCHEME_KEY);
  if (inProfile) {
    throw new InputError(
      `${SCHEME_KEY} is project-wide and cannot be set in a profile`,
      { file: inProfile.file, line: inProfile.line },
      `move the line to .dockerargs, or pass --scheme ${inProfile.value}`,
    );
  }
  if (flag !== undefined) return { scheme: parse(flag, '--scheme'), from: '--scheme' };
  const fromEnv = env[SCHEME_KEY];
  if (fromEnv) return { scheme: parse(fromEnv, `env ${SCHEME_KEY}`), from: `env ${SCHEME_KEY}` };
  const line = [...base].reverse().find((e) => e.key === SCHEME_KEY);
  if (line)
    return {
      scheme: parse(line.value, `${line.file}:${line.line}`, { file: line.file, line: line.line }),
      from: `${line.file}:${line.line}`,
    };
  return { scheme: DEFAULT_SCHEME, from: 'default' };
}
