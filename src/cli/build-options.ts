/** Validates the build-related flags shared by plan, build, publish and manifest (bad values → exit 2). */
import { InputError, listSome, quoteShort } from '../config/errors.js';
import { note } from '../config/warnings.js';
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
  sbomGenerator?: string;
  noCache?: boolean;
  /** The last `--cache <mode>` given, kept apart from `cache` (which a later --no-cache turns to false). */
  cacheMode?: string;
  archOnly?: boolean;
  network?: string;
  /** `--extra-ca-certs FILE` (resolved with env and .dockerargs in config/extra-ca.ts). */
  extraCaCerts?: string;
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
  /** The SBOM scanner image for --attest (buildx's default when unset). */
  sbomGenerator?: string;
  noCache: boolean;
  archOnly: boolean;
  network: NetworkMode;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  if (value === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(value)) throw new InputError(`${flag} ${quoteShort(value)} is not allowed`, undefined, `use one of: ${allowed.join(', ')}`);
  return value as T;
}

/** An image reference, nothing else: it goes into buildx's comma-separated `--attest` value. */
function sbomGenerator(raw: RawBuildFlags): string {
  const ref = raw.sbomGenerator!;
  if (!raw.attest) throw new InputError('--sbom-generator needs --attest', undefined, 'add --attest, or drop --sbom-generator');
  if (!/^[a-z0-9][a-z0-9._\/:@-]*$/i.test(ref) || ref.length > 255) throw new InputError(`--sbom-generator ${JSON.stringify(ref.slice(0, 80))} is not an image reference`, undefined, 'e.g. --sbom-generator registry.example.com/mirror/buildkit-syft-scanner:stable-1');
  return ref;
}

/**
 * `--cache <mode>` and `--no-cache`, in either order. Both together: every step is rebuilt (nothing is taken from
 * any cache) and the registry cache is still exported when pushing, so the next build starts warm: what a CI's
 * scheduled clean rebuild wants. Said in a note rather than done silently.
 */
function cacheFlags(raw: RawBuildFlags): { cache: CacheMode; noCache: boolean } {
  const mode = raw.cacheMode ?? (typeof raw.cache === 'string' ? raw.cache : undefined);
  const cache = oneOf('--cache', mode, ['registry', 'none'] as const, 'none');
  const noCache = raw.cache === false || Boolean(raw.noCache);
  if (noCache && cache === 'registry') {
    note(
      raw.push
        ? '--no-cache with --cache registry: every step is rebuilt (no cache is used), and the registry cache is still exported, so the next build can use it'
        : '--no-cache with --cache registry: every step is rebuilt; the registry cache is neither used nor exported (it is exported only with --push)',
    );
  }
  return { cache, noCache };
}

export function parseBuildFlags(raw: RawBuildFlags, env: NodeJS.ProcessEnv): BuildFlags {
  if (raw.archOnly && !raw.push) throw new InputError('--arch-only needs --push', undefined, 'idekube build --push --arch-only --platform linux/arm64');
  if (raw.push && raw.load) throw new InputError('--push and --load cannot be combined', undefined, 'push to a registry, or load into the local engine');
  let jobs = 2;
  if (raw.jobs !== undefined) {
    if (!/^[1-9]\d*$/.test(raw.jobs)) throw new InputError(`--jobs ${quoteShort(raw.jobs)} is not a positive whole number`, undefined, 'e.g. --jobs 2');
    jobs = Number(raw.jobs);
  }
  const aliases = raw.alias ?? [];
  const badAlias = aliases.filter((a) => !(ALIAS_KINDS as readonly string[]).includes(a));
  if (badAlias.length) throw new InputError(`--alias ${listSome(badAlias.map((a) => (a.length > 30 ? `${a.slice(0, 30)}…` : a)), 5)}: unknown alias kind`, undefined, `use one of: ${ALIAS_KINDS.join(', ')}`);
  const engines: Partial<Record<Platform, string>> = {};
  for (const e of raw.engine ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(e);
    if (!m || !(PLATFORMS as readonly string[]).includes(m[1]!)) throw new InputError(`--engine ${quoteShort(e)}: expected PLATFORM=ADDRESS`, undefined, 'e.g. --engine linux/arm64=ssh://builder@arm-host');
    if (!/^(unix|tcp|ssh|https?):\/\//.test(m[2]!)) throw new InputError(`--engine ${quoteShort(e)}: ${quoteShort(m[2]!)} is not an engine address`, undefined, 'use unix:///path, tcp://host:port or ssh://user@host');
    engines[m[1] as Platform] = m[2]!;
  }
  return {
    all: Boolean(raw.all),
    platforms: parsePlatforms(raw.platform ?? (env.IDEKUBE_PLATFORMS || undefined), raw.platform !== undefined ? '--platform' : 'IDEKUBE_PLATFORMS'),
    push: Boolean(raw.push),
    load: Boolean(raw.load),
    driver: oneOf('--driver', raw.driver, ['auto', 'docker', 'buildx'] as const, 'auto'),
    ...(raw.builder ? { builder: raw.builder } : {}),
    ...cacheFlags(raw),
    jobs,
    dryRun: Boolean(raw.dryRun),
    progress: oneOf('--progress', raw.progress, ['auto', 'tty', 'plain', 'json'] as const, 'auto'),
    failFast: Boolean(raw.failFast),
    aliases: aliases as AliasKind[],
    engines,
    attest: Boolean(raw.attest),
    ...(raw.sbomGenerator !== undefined ? { sbomGenerator: sbomGenerator(raw) } : {}),
    archOnly: Boolean(raw.archOnly),
    network: oneOf('--network', raw.network, NETWORK_MODES, 'default'),
  };
}
