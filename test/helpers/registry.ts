/** Throwaway loopback registries (test/env/registry.sh) and plain-HTTP reads of what they hold. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA } from '../../src/registry/types.js';
import { REPO_ROOT } from './project.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ThrowawayRegistry {
  host: string;
  port: number;
  stop(): void;
  start(): void;
}

export async function startRegistry(): Promise<ThrowawayRegistry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'idekube-registry-'));
  let pidFile = '';
  const script = join(REPO_ROOT, 'test/env/registry.sh');
  const start = () => {
    pidFile = execFileSync('bash', [script, 'start', String(port), dir], { encoding: 'utf8', timeout: 60_000 }).trim();
  };
  start();
  return {
    host: `127.0.0.1:${port}`,
    port,
    start,
    stop: () => {
      if (pidFile) execFileSync('bash', [script, 'stop', pidFile], { timeout: 30_000 });
      pidFile = '';
    },
  };
}

/** GET a manifest (list or image) over plain HTTP; undefined on 404. */
export async function getManifest(registry: string, repo: string, ref: string): Promise<{ mediaType: string; json: any } | undefined> {
  // a pooled keep-alive socket to a registry that was restarted fails once: retry (bounded)
  for (let attempt = 1; ; attempt++) {
    try {
      return await getManifestOnce(registry, repo, ref);
    } catch (e) {
      if (attempt >= 3 || !/fetch failed/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function getManifestOnce(registry: string, repo: string, ref: string): Promise<{ mediaType: string; json: any } | undefined> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${ref}`, {
    headers: { accept: [MEDIA.dockerList, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.ociManifest].join(', ') },
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET ${repo}:${ref} → HTTP ${res.status}`);
  return { mediaType: res.headers.get('content-type') ?? '', json: await res.json() };
}

/** The platforms of a list's images (attestation manifests, under unknown/unknown, are not platforms). */
export function listPlatforms(list: { json: any }): string[] {
  return (list.json.manifests as Array<{ platform: { os: string; architecture: string } }>)
    .filter((m) => m.platform.os !== 'unknown')
    .map((m) => `${m.platform.os}/${m.platform.architecture}`)
    .sort();
}
