/**
 * Is `docker buildx` usable here, and new enough? The docker CLI finds buildx as a plugin file in a few folders; when
 * none holds one the answer is no without starting the CLI (≈ 50 ms saved on every `--driver auto` build).
 * probeBuildx goes further: the version, then the selected builder's facts (see buildx-builder.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import type { BuilderFacts } from './buildx-builder.js';

const SYSTEM_DIRS = [
  '/usr/local/lib/docker/cli-plugins',
  '/usr/local/libexec/docker/cli-plugins',
  '/usr/lib/docker/cli-plugins',
  '/usr/libexec/docker/cli-plugins',
];

/**
 * What idekube's bake file and argv need: `contexts` (0.8), `--metadata-file` (0.6) and `--progress rawjson`.
 * rawjson came with buildx v0.12.0 (e2ebab5f2 "vendor: update buildkit to master@cbfd4023383d" brought BuildKit's
 * progressui.RawJSONMode, which bake passes through; the docs only mention it from v0.15.0). So rawjson does not raise
 * the floor: 0.13.0 is the minimum idekube supports.
 */
export const MIN_BUILDX = '0.13.0';
/** bake learnt the target `network` key and `--allow` in v0.17.0; older bake drops `network` without a word. */
export const MIN_BUILDX_NETWORK = '0.17.0';

export const UPDATE_BUILDX = 'update the docker-buildx plugin (https://github.com/docker/buildx/releases) or use --driver docker';

/** The docker CLI's plugin folders on Linux: the user's, the config's extra ones, then the system's. */
export function pluginDirs(env: NodeJS.ProcessEnv = process.env, systemDirs = SYSTEM_DIRS): string[] {
  const config = env.DOCKER_CONFIG || join(homedir(), '.docker');
  let extra: string[] = [];
  try {
    const c = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')) as { cliPluginsExtraDirs?: unknown };
    if (Array.isArray(c.cliPluginsExtraDirs)) extra = c.cliPluginsExtraDirs.filter((d): d is string => typeof d === 'string');
  } catch {
    /* no config: no extra folders */
  }
  return [join(config, 'cli-plugins'), ...extra, ...systemDirs];
}

function hasPlugin(env: NodeJS.ProcessEnv, systemDirs: string[]): boolean {
  return pluginDirs(env, systemDirs).some((d) => existsSync(join(d, 'docker-buildx')));
}

/** buildx's version line, or undefined when it is not installed or does not run. */
export async function buildxAvailable(env: NodeJS.ProcessEnv = process.env, systemDirs = SYSTEM_DIRS): Promise<string | undefined> {
  if (!hasPlugin(env, systemDirs)) return undefined;
  const r = await versionLine(env);
  return 'line' in r ? r.line : undefined;
}

async function versionLine(env: NodeJS.ProcessEnv): Promise<{ line: string } | { error: string }> {
  const { execa } = await import('execa');
  try {
    const r = await execa('docker', ['buildx', 'version'], { timeout: 15_000, reject: false, env });
    if (r.exitCode === 0) return { line: r.stdout.trim() };
    return { error: firstLine(r.stderr) || (r.timedOut ? 'no answer within 15 s' : `exit code ${r.exitCode}`) };
  } catch (e) {
    return { error: firstLine((e as Error).message) };
  }
}

/**
 * The semver of `docker buildx version`: `github.com/docker/buildx v0.29.1 a2b3c4d` (upstream),
 * `github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4` (Debian), `… v0.13.1-desktop.1 …` (Docker Desktop) → 0.29.1,
 * 0.29.1, 0.13.1. Only a token that looks like x.y.z counts: a commit id such as 6c929a4 must not coerce to 6.0.0.
 */
export function parseBuildxVersion(line: string): string | undefined {
  const token = line.split(/\s+/).find((t) => /^v?\d+\.\d+\.\d+/.test(t));
  return token ? (semver.coerce(token)?.version ?? undefined) : undefined;
}

/** The `why` for a buildx older than MIN_BUILDX, or undefined when it is new enough. */
export function tooOldWhy(version: string): string | undefined {
  if (semver.gte(version, MIN_BUILDX)) return undefined;
  return `docker buildx ${version} is older than ${MIN_BUILDX}, which idekube needs (bake with contexts, --metadata-file, --progress rawjson): ${UPDATE_BUILDX}`;
}

export type BuildxProbe = { available: false; why: string } | { available: true; version: string; facts: BuilderFacts };

export interface ProbeOptions {
  /** `--builder`; unset: buildx's own choice (BUILDX_BUILDER, then the current builder). */
  builder?: string;
  env?: NodeJS.ProcessEnv;
  /** For tests: the system plugin folders. */
  systemDirs?: string[];
}

/** Can buildx run idekube's bake at all, and with which builder? Check the plan against `facts` with builderProblems. */
export async function probeBuildx(opts: ProbeOptions = {}): Promise<BuildxProbe> {
  const env = opts.env ?? process.env;
  if (!hasPlugin(env, opts.systemDirs ?? SYSTEM_DIRS)) {
    return {
      available: false,
      why: 'docker buildx is not installed (no docker-buildx plugin file): install the docker-buildx plugin, or use --driver docker',
    };
  }
  const r = await versionLine(env);
  if ('error' in r)
    return {
      available: false,
      why: `docker buildx version failed (${r.error}): reinstall the docker-buildx plugin, or use --driver docker`,
    };
  const version = parseBuildxVersion(r.line);
  if (!version)
    return {
      available: false,
      why: `cannot read a version in "${r.line}" from docker buildx version: install a released docker-buildx plugin, or use --driver docker`,
    };
  const old = tooOldWhy(version);
  if (old) return { available: false, why: old };
  const { builderFacts } = await import('./buildx-builder.js');
  const b = await builderFacts(version, opts.builder, env);
  return 'why' in b ? { available: false, why: b.why } : { available: true, version, facts: b };
}

export function firstLine(s: string): string {
  return s
    .trim()
    .split('\n')[0]!
    .replace(/^ERROR:\s*/, '')
    .trim();
}
