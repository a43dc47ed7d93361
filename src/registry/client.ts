/**
 * A small Registry HTTP API v2 client: manifests (get/head/put/delete), config blobs, token auth,
 * retries with backoff on network errors and 5xx/429. Loopback registries are spoken to over HTTP, like dockerd does.
 */
import { RunError } from '../config/errors.js';
import { prop } from '../config/guards.js';
import { credentialsFor, type Credentials } from './credentials.js';
import { ACCEPT_ANY, registryHost, type FetchedManifest } from './types.js';

export interface ClientOptions {
  /** Registries reached over plain HTTP (loopback ones always are). */
  insecure?: string[];
  retries?: number;
  /** First backoff delay in ms (doubles each retry). */
  backoffMs?: number;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly creds: Credentials | undefined;
  private readonly base: string;

  constructor(
    readonly registry: string,
    private readonly opts: ClientOptions = {},
  ) {
    const host = registryHost(registry);
    const plain = LOOPBACK.test(host) || (opts.insecure ?? []).includes(registry);
    this.base = `${plain ? 'http' : 'https'}://${host}`;
    this.creds = credentialsFor(registry, opts.env);
  }

  async getManifest(
    repo: string,
    reference: string,
  ): Promise<{ mediaType: string; digest: string; body: Buffer; json: FetchedManifest } | undefined> {
    const r = await this.request('GET', `/v2/${repo}/manifests/${reference}`, repo, { accept: ACCEPT_ANY });
    if (r.status === 404) return undefined;
    this.expect(r, 200, `GET manifest ${repo}:${reference}`);
    // the shape the distribution spec gives a manifest; readers check the fields they use
    const json = JSON.parse(r.body.toString('utf8')) as FetchedManifest;
    return {
      mediaType: r.headers.get('content-type') ?? json.mediaType ?? '',
      digest: r.headers.get('docker-content-digest') ?? '',
      body: r.body,
      json,
    };
  }

  async putManifest(repo: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
    let r = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, repo, { contentType: mediaType, body, push: true });
    // A list whose image manifest another push of the same content is writing into this repository at that moment
    // (two lineups with identical images): distribution briefly answers MANIFEST_BLOB_UNKNOWN. Try again, bounded.
    for (let wait = 500; r.status === 400 && /MANIFEST_BLOB_UNKNOWN/.test(r.body.toString('utf8')) && wait <= 4000; wait *= 2) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      r = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, repo, { contentType: mediaType, body, push: true });
    }
    this.expect(r, 201, `PUT manifest ${repo}:${reference}`);
    return r.headers.get('docker-content-digest') ?? '';
  }

  /** Deletes by digest (registries delete manifests, not tags). False when the registry does not allow deletes. */
  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    const r = await this.request('DELETE', `/v2/${repo}/manifests/${digest}`, repo, { push: true, del: true });
    if (r.status === 202 || r.status === 200 || r.status === 404) return true;
    if (r.status === 400 || r.status === 405 || r.status === 401 || r.status === 403) return false;
    this.expect(r, 202, `DELETE manifest ${repo}@${digest}`);
    return false;
  }

  async getBlobJson<T>(repo: string, digest: string): Promise<T> {
    const r = await this.request('GET', `/v2/${repo}/blobs/${digest}`, repo, {});
    this.expect(r, 200, `GET blob ${repo}@${digest}`);
    return JSON.parse(r.body.toString('utf8')) as T;
  }

  async ping(): Promise<void> {
    const r = await this.request('GET', '/v2/', '', {});
    if (r.status !== 200 && r.status !== 401) this.expect(r, 200, 'GET /v2/');
  }

  private expect(r: Fetched, status: number, what: string): void {
    if (r.status === status || (status === 201 && r.status === 202)) return;
    const text = r.body.toString('utf8').slice(0, 300);
    throw new RunError(`registry ${this.registry}: ${what} answered HTTP ${r.status}: ${text.trim()}`, {
      fix: r.status === 401 || r.status === 403 ? `log in first: docker login ${this.registry}` : 'check the registry and try again',
    });
  }

  private async request(
    method: string,
    path: string,
    repo: string,
    o: { accept?: string; contentType?: string; body?: Buffer; push?: boolean; del?: boolean },
  ): Promise<Fetched> {
    const retries = this.opts.retries ?? 4;
    let delay = this.opts.backoffMs ?? 250;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const r = await this.once(method, path, repo, o);
        if ((r.status >= 500 || r.status === 429) && attempt < retries) {
          lastError = new Error(`HTTP ${r.status}`);
        } else {
          return r;
        }
      } catch (e) {
        if (e instanceof Error && e.name === 'AbortError' && this.opts.signal?.aborted) throw e;
        lastError = e;
      }
      if (attempt < retries) {
        await sleep(delay, this.opts.signal);
        delay *= 2;
      }
    }
    throw new RunError(`registry ${this.registry} unreachable: ${method} ${path}: ${describe(lastError)}`, {
      cause: lastError,
      fix: `check that the registry is running and reachable (${this.base})`,
    });
  }

  private async once(
    method: string,
    path: string,
    repo: string,
    o: { accept?: string; contentType?: string; body?: Buffer; push?: boolean; del?: boolean },
  ): Promise<Fetched> {
    const scope = repo ? `repository:${repo}:${o.del ? 'delete,pull,push' : o.push ? 'pull,push' : 'pull'}` : '';
    const send = async (authorization?: string): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (o.accept) headers.accept = o.accept;
      if (o.contentType) headers['content-type'] = o.contentType;
      if (authorization) headers.authorization = authorization;
      const signals = [AbortSignal.timeout(this.opts.timeoutMs ?? 30_000), ...(this.opts.signal ? [this.opts.signal] : [])];
      return fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(o.body ? { body: o.body } : {}),
        redirect: 'follow',
        signal: AbortSignal.any(signals),
      });
    };
    let res = await send(this.tokens.get(scope) ?? this.basic());
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.arrayBuffer();
      const token = await this.token(challenge, scope);
      if (token) {
        this.tokens.set(scope, token);
        res = await send(token);
      } else {
        res = await send(this.basic());
      }
    }
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  private basic(): string | undefined {
    if (!this.creds || this.creds.identityToken) return undefined;
    return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
  }

  private async token(challenge: string, scope: string): Promise<string | undefined> {
    if (!/^Bearer /i.test(challenge)) return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    const basic = this.basic();
    if (basic) headers.authorization = basic;
    const r = await fetch(url, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) });
    if (!r.ok) return undefined;
    const j: unknown = await r.json();
    const t = prop(j, 'token') ?? prop(j, 'access_token');
    return typeof t === 'string' && t ? `Bearer ${t}` : undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });
}

function describe(e: unknown): string {
  const cause = prop(e, 'cause');
  return [prop(e, 'message'), prop(cause, 'code') ?? prop(cause, 'message')].filter(Boolean).join(': ') || String(e);
}
