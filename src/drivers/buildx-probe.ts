/**
 * Is `docker buildx` usable here? The docker CLI finds buildx as a plugin file in a few folders; when none holds
 * one the answer is no without starting the CLI (≈ 50 ms saved on every `--driver auto` build).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const SYSTEM_DIRS = ['/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];

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

/** buildx's version line, or undefined when it is not installed or does not run. */
export async function buildxAvailable(env: NodeJS.ProcessEnv = process.env, systemDirs = SYSTEM_DIRS): Promise<string | undefined> {
  if (!pluginDirs(env, systemDirs).some((d) => existsSync(join(d, 'docker-buildx')))) return undefined;
  const { execa } = await import('execa');
  try {
    const r = await execa('docker', ['buildx', 'version'], { timeout: 15_000, reject: false, env });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}
