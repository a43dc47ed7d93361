/**
 * Registry credentials from the Docker config (~/.docker/config.json or $DOCKER_CONFIG): inline `auths`,
 * `credHelpers` per registry and the default `credsStore` (docker-credential-<name> get).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  username: string;
  password: string;
  /** An identity token (OAuth refresh token) instead of a password. */
  identityToken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

function readConfig(env: NodeJS.ProcessEnv): DockerConfig {
  const p = dockerConfigPath(env);
  if (!existsSync(p)) return {};
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as DockerConfig;
  } catch {
    return {};
  }
}

/** Keys the Docker CLI uses for a registry in config.json. */
function keysFor(registry: string): string[] {
  if (registry === 'docker.io' || registry === 'registry-1.docker.io' || registry === 'index.docker.io') {
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  }
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

export function credentialsFor(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const cfg = readConfig(env);
  const keys = keysFor(registry);
  const helper = keys.map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? (cfg.credsStore || undefined);
  if (helper) {
    const fromHelper = runHelper(helper, keys[0]!);
    if (fromHelper) return fromHelper;
  }
  for (const k of keys) {
    const a = cfg.auths?.[k];
    if (!a) continue;
    if (a.identitytoken) return { username: '<token>', password: '', identityToken: a.identitytoken };
    if (a.username && a.password) return { username: a.username, password: a.password };
    if (a.auth) {
      const decoded = Buffer.from(a.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
  }
  return undefined;
}

function runHelper(name: string, serverUrl: string): Credentials | undefined {
  try {
    const out = execFileSync(`docker-credential-${name}`, ['get'], {
      input: serverUrl,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    const j = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!j.Secret) return undefined;
    return j.Username === '<token>'
      ? { username: '<token>', password: '', identityToken: j.Secret }
      : { username: j.Username ?? '', password: j.Secret };
  } catch {
    return undefined;
  }
}

/** The X-Registry-Auth payload the Engine API expects for push/pull. */
export function engineAuth(registry: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  const c = credentialsFor(registry, env);
  if (!c) return undefined;
  return c.identityToken
    ? { identitytoken: c.identityToken, serveraddress: registry }
    : { username: c.username, password: c.password, serveraddress: registry };
}
