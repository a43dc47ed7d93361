/** Validates the build-related flags shared by plan, build, publish and manifest (bad values → exit 2). */
import { InputError } from '../config/errors.js';
import type { Platform } from '../config/model.js';
import { PLATFORMS } from '../config/schema.js';
import { ALIAS_KINDS, type AliasKind } from '../config/tags.js';
import { parsePlatforms } from '../plan/make-plan.js';
import { NETWORK_MODES, type CacheMode, type DriverName, type NetworkMode } from '../plan/types.js';

export interface RawBuildFlags {
  all?: boolean;
  platform?: string;
  push?: boolean;
  load?: boolean;
  driver?: string;
  builder?: string;
  /** false: `--no-cache` (commander reads it as the negation of --cache). */
  cache?: string | false;
  jobs?: string;
  dryRun?: boolean;
  progress?: string;
  failFast?: boolean;
  alias?: string[];
  engine?: string[];
  attest?: boolean;
  noCache?: boolean;
  archOnly?: boolean;
  network?: string;
}

export interface BuildFlags {
  all: boolean;
  platforms: Platform[] | undefined;
  push: boolean;
  load: boolean;
  driver: 'auto' | DriverName;
  builder?: string;
  cache: CacheMode;
  jobs: number;
  dryRun: boolean;
  progress: 'auto' | 'tty' | 'plain' | 'json';
  failFast: boolean;
  aliases: AliasKind[];
  engines: Partial<Record<Platform, string>>;
  attest: boolean;
  noCache: boolean;
  archOnly: boolean;
  network: NetworkMode;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(value)) throw new InputError(`${flag} ${JSON.stringify(value)} is not allowed`, undefined, `use one of: ${allowed.join(', ')}`);
  return value as T;
}

export function parseBuildFlags(raw: RawBuildFlags, env: NodeJS.ProcessEnv): BuildFlags {
  if (raw.archOnly && !raw.push) throw new InputError('--arch-only needs --push', undefined, 'idekube build --push --arch-only --platform linux/arm64');
  if (raw.push && raw.load) throw new InputError('--push and --load cannot be combined', undefined, 'push to a registry, or load into the local engine');
  let jobs = 2;
  if (raw.jobs !== undefined) {
    if (!/^[1-9]\d*$/.test(raw.jobs)) throw new InputError(`--jobs ${JSON.stringify(raw.jobs)} is not a positive whole number`, undefined, 'e.g. --jobs 2');
    jobs = Number(raw.jobs);
  }
  const aliases = raw.alias ?? [];
  const badAlias = aliases.filter((a) => !(ALIAS_KINDS as readonly string[]).includes(a));
  if (badAlias.length) throw new InputError(`--alias ${badAlias.join(', ')}: unknown alias kind`, undefined, `use one of: ${ALIAS_KINDS.join(', ')}`);
  const engines: Partial<Record<Platform, string>> = {};
  for (const e of raw.engine ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(e);
    if (!m || !(PLATFORMS as readonly string[]).includes(m[1]!)) throw new InputError(`--engine ${JSON.stringify(e)}: expected PLATFORM=ADDRESS`, undefined, 'e.g. --engine linux/arm64=ssh://builder@arm-host');
    if (!/^(unix|tcp|ssh|https?):\/\//.test(m[2]!)) throw new InputError(`--engine ${JSON.stringify(e)}: ${JSON.stringify(m[2])} is not an engine address`, undefined, 'use unix:///path, tcp://host:port or ssh://user@host');
    engines[m[1] as Platform] = m[2]!;
  }
  return {
    all: Boolean(raw.all),
    platforms: parsePlatforms(raw.platform ?? (env.IDEKUBE_PLATFORMS || undefined), raw.platform !== undefined ? '--platform' : 'IDEKUBE_PLATFORMS'),
    push: Boolean(raw.push),
    load: Boolean(raw.load),
    driver: oneOf('--driver', raw.driver, ['auto', 'docker', 'buildx'] as const, 'auto'),
    ...(raw.builder ? { builder: raw.builder } : {}),
    cache: oneOf('--cache', raw.cache === false ? undefined : raw.cache, ['registry', 'none'] as const, 'none'),
    jobs,
    dryRun: Boolean(raw.dryRun),
    progress: oneOf('--progress', raw.progress, ['auto', 'tty', 'plain', 'json'] as const, 'auto'),
    failFast: Boolean(raw.failFast),
    aliases: aliases as AliasKind[],
    engines,
    attest: Boolean(raw.attest),
    noCache: raw.cache === false || Boolean(raw.noCache),
    archOnly: Boolean(raw.archOnly),
    network: oneOf('--network', raw.network, NETWORK_MODES, 'default'),
  };
}
