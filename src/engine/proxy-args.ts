/**
 * Proxy build args from the Docker CLI config, as `docker build` and buildx pass them: `proxies` in
 * ~/.docker/config.json (or $DOCKER_CONFIG), the entry for the engine's address or else `default`, each value
 * under its upper- and lower-case name. The Engine API does not read that file, so without this a user whose
 * builds need a proxy would find it honoured by buildx and ignored by the docker driver.
 * BuildKit keeps these predefined args out of cache keys and image history: setting one rebuilds nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dockerConfigPath } from '../registry/credentials.js';

interface ProxyEntry {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  ftpProxy?: string;
  allProxy?: string;
}

const NAMES: Array<[keyof ProxyEntry, string]> = [
  ['httpProxy', 'HTTP_PROXY'],
  ['httpsProxy', 'HTTPS_PROXY'],
  ['noProxy', 'NO_PROXY'],
  ['ftpProxy', 'FTP_PROXY'],
  ['allProxy', 'ALL_PROXY'],
];

/** The proxy args for builds on `engineAddress` (undefined: the local engine). Empty when none are set. */
export function proxyBuildArgs(engineAddress: string | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const path = dockerConfigPath(env);
  if (!existsSync(path)) return {};
  let proxies: Record<string, ProxyEntry> | undefined;
  try {
    proxies = (JSON.parse(readFileSync(path, 'utf8')) as { proxies?: Record<string, ProxyEntry> }).proxies;
  } catch {
    return {}; // as for credentials: the Docker CLI warns about a broken config and goes on
  }
  const entry = (engineAddress !== undefined ? proxies?.[engineAddress] : undefined) ?? proxies?.default;
  const out: Record<string, string> = {};
  for (const [key, name] of NAMES) {
    const value = entry?.[key];
    if (typeof value !== 'string' || !value) continue;
    out[name] = value;
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** `args` with the proxy args added where the build does not set that name itself (explicit args win, as in the CLI). */
export function withProxyArgs(args: Record<string, string>, proxy: Record<string, string>): Record<string, string> {
  const out = { ...args };
  for (const [k, v] of Object.entries(proxy)) if (!(k in out)) out[k] = v;
  return out;
}
