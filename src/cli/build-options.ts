/**
 * The flags of plan, build, publish and manifest, parsed once into typed options (bad values → exit 2): plan/,
 * verify/ and the drivers receive these, never the raw strings.
 */
import { resolveExtraCa, type ExtraCaChoice } from '../config/extra-ca.js';
import { InputError, listSome, quoteShort } from '../config/errors.js';
import { note } from '../config/warnings.js';
import type { Platform } from '../config/model.js';
import { isPlatform, parsePlatforms } from '../config/platform.js';
import type { AliasKind } from '../config/tags.js';
import type { CacheMode, NetworkMode } from '../plan/types.js';
import { ALIAS_KINDS, CACHE_MODES, DRIVER_CHOICES, NETWORK_MODES, PROGRESS_MODES, oneOf } from './choices.js';
import type { Context } from './context.js';

/** What commander hands over: each command fills in the flags it declares. */
export interface RawBuildFlags {
  all?: boolean;
  platform?: string;
  push?: boolean;
  load?: boolean;
  driver?: string;
  builder?: string;
  /** `--cache <mode>` (`--no-cache` is a flag of its own: `noCache`). */
  cache?: string;
  noCache?: boolean;
  jobs?: string;
  dryRun?: boolean;
  progress?: string;
  failFast?: boolean;
  alias?: string[];
  engine?: string[];
  attest?: boolean;
  sbomGenerator?: string;
  archOnly?: boolean;
  network?: string;
  /** `--extra-ca-certs FILE` (resolved with env and .dockerargs in config/extra-ca.ts). */
  extraCaCerts?: string;
  /** `--test`: idekube test on each per-arch image before anything of it is pushed. */
  test?: boolean;
}

export interface BuildFlags {
  all: boolean;
  platforms: Platform[] | undefined;
  /** Where `platforms` came from, for messages: `--platform` or `IDEKUBE_PLATFORMS`. */
  platformsVia: string;
  push: boolean;
  load: boolean;
  driver: (typeof DRIVER_CHOICES)[number];
  builder?: string;
  cache: CacheMode;
  jobs: number;
  dryRun: boolean;
  progress: (typeof PROGRESS_MODES)[number];
  failFast: boolean;
  aliases: AliasKind[];
  engines: Partial<Record<Platform, string>>;
  attest: boolean;
  /** The SBOM scanner image for --attest (buildx's default when unset). */
  sbomGenerator?: string;
  noCache: boolean;
  archOnly: boolean;
  network: NetworkMode;
  test: boolean;
  /** The extra CA certificates RUN steps trust (flag, env or .dockerargs); set by resolveBuildFlags only. */
  extraCaCerts?: ExtraCaChoice;
}

/** `--platform`, else env IDEKUBE_PLATFORMS (an empty one counts as unset), with the name to use in messages. */
export function platformFlag(value: string | undefined, env: NodeJS.ProcessEnv): { platforms: Platform[] | undefined; via: string } {
  const via = value !== undefined ? '--platform' : 'IDEKUBE_PLATFORMS';
  return { platforms: parsePlatforms(value ?? (env.IDEKUBE_PLATFORMS || undefined), via), via };
}

/** --test needs images in the local engine before they are pushed: the docker driver, no remote engines. */
export function withTestDriver<T extends Pick<RawBuildFlags, 'driver' | 'engine' | 'test'>>(raw: T): T {
  if (!raw.test) return raw;
  if (raw.driver === 'buildx')
    throw new InputError(
      '--test cannot be combined with --driver buildx (bake pushes from the builder, so nothing can be tested before the push)',
      undefined,
      'use --driver docker (the default with --test)',
    );
  if (raw.engine?.length)
    throw new InputError(
      '--test runs the images on the local engine and reaches them on 127.0.0.1; it cannot be combined with --engine',
      undefined,
      'test on a machine that builds natively, or leave out --test',
    );
  return { ...raw, driver: 'docker' };
}

/** An image reference, nothing else: it goes into buildx's comma-separated `--attest` value. */
function sbomGenerator(raw: RawBuildFlags): string {
  const ref = raw.sbomGenerator!;
  if (!raw.attest) throw new InputError('--sbom-generator needs --attest', undefined, 'add --attest, or drop --sbom-generator');
  if (!/^[a-z0-9][a-z0-9._/:@-]*$/i.test(ref) || ref.length > 255)
    throw new InputError(
      `--sbom-generator ${JSON.stringify(ref.slice(0, 80))} is not an image reference`,
      undefined,
      'e.g. --sbom-generator registry.example.com/mirror/buildkit-syft-scanner:stable-1',
    );
  return ref;
}

/**
 * `--cache <mode>` and `--no-cache`, in either order. Both together: every step is rebuilt (nothing is taken from
 * any cache) and the registry cache is still exported when pushing, so the next build starts warm: what a CI's
 * scheduled clean rebuild wants. Said in a note rather than done silently.
 */
function cacheFlags(raw: RawBuildFlags): { cache: CacheMode; noCache: boolean } {
  const cache = oneOf('--cache', raw.cache, CACHE_MODES, 'none');
  const noCache = Boolean(raw.noCache);
  if (noCache && cache === 'registry') {
    note(
      raw.push
        ? '--no-cache with --cache registry: every step is rebuilt (no cache is used), and the registry cache is still exported, so the next build can use it'
        : '--no-cache with --cache registry: every step is rebuilt; the registry cache is neither used nor exported (it is exported only with --push)',
    );
  }
  return { cache, noCache };
}

function engineFlags(values: string[]): Partial<Record<Platform, string>> {
  const engines: Partial<Record<Platform, string>> = {};
  for (const e of values) {
    const m = /^([^=]+)=(.+)$/.exec(e);
    if (!m || !isPlatform(m[1]!))
      throw new InputError(
        `--engine ${quoteShort(e)}: expected PLATFORM=ADDRESS`,
        undefined,
        'e.g. --engine linux/arm64=ssh://builder@arm-host',
      );
    if (!/^(unix|tcp|ssh|https?):\/\//.test(m[2]!))
      throw new InputError(
        `--engine ${quoteShort(e)}: ${quoteShort(m[2]!)} is not an engine address`,
        undefined,
        'use unix:///path, tcp://host:port or ssh://user@host',
      );
    engines[m[1] as Platform] = m[2]!;
  }
  return engines;
}

function aliasFlags(aliases: string[]): AliasKind[] {
  const bad = aliases.filter((a) => !(ALIAS_KINDS as readonly string[]).includes(a));
  if (bad.length)
    throw new InputError(
      `--alias ${listSome(
        bad.map((a) => (a.length > 30 ? `${a.slice(0, 30)}…` : a)),
        5,
      )}: unknown alias kind`,
      undefined,
      `use one of: ${ALIAS_KINDS.join(', ')}`,
    );
  return aliases as AliasKind[];
}

/** Everything but the extra CA certificates (which need the project): pure, for tests. */
export function parseBuildFlags(given: RawBuildFlags, env: NodeJS.ProcessEnv): BuildFlags {
  const raw = withTestDriver(given);
  if (raw.archOnly && !raw.push)
    throw new InputError('--arch-only needs --push', undefined, 'idekube build --push --arch-only --platform linux/arm64');
  if (raw.push && raw.load)
    throw new InputError('--push and --load cannot be combined', undefined, 'push to a registry, or load into the local engine');
  if (raw.jobs !== undefined && !/^[1-9]\d*$/.test(raw.jobs))
    throw new InputError(`--jobs ${quoteShort(raw.jobs)} is not a positive whole number`, undefined, 'e.g. --jobs 2');
  const aliases = aliasFlags(raw.alias ?? []);
  const engines = engineFlags(raw.engine ?? []);
  const { platforms, via } = platformFlag(raw.platform, env);
  return {
    all: Boolean(raw.all),
    platforms,
    platformsVia: via,
    push: Boolean(raw.push),
    load: Boolean(raw.load),
    driver: oneOf('--driver', raw.driver, DRIVER_CHOICES, 'auto'),
    ...(raw.builder ? { builder: raw.builder } : {}),
    ...cacheFlags(raw),
    jobs: raw.jobs !== undefined ? Number(raw.jobs) : 2,
    dryRun: Boolean(raw.dryRun),
    progress: oneOf('--progress', raw.progress, PROGRESS_MODES, 'auto'),
    failFast: Boolean(raw.failFast),
    aliases,
    engines,
    attest: Boolean(raw.attest),
    ...(raw.sbomGenerator !== undefined ? { sbomGenerator: sbomGenerator(raw) } : {}),
    archOnly: Boolean(raw.archOnly),
    network: oneOf('--network', raw.network, NETWORK_MODES, 'default'),
    test: Boolean(raw.test),
  };
}

/** parseBuildFlags, then the extra CA certificates (`--extra-ca-certs`, env, `.dockerargs`): what builds need. */
export async function resolveBuildFlags(ctx: Context, raw: RawBuildFlags): Promise<BuildFlags> {
  const flags = parseBuildFlags(raw, ctx.env);
  const base = await ctx.project();
  const ca = resolveExtraCa(raw.extraCaCerts, ctx.env, base.root, base.layered.base, base.layered.profile);
  return ca ? { ...flags, extraCaCerts: ca } : flags;
}
