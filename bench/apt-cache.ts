/**
 * A caching HTTP proxy on 127.0.0.1 for the bench's builds, so cold runs measure building rather than the network:
 * package files (`*.deb`, `*.udeb`) and content-addressed index files (`/by-hash/`) are kept on disk after their
 * first download; everything else (InRelease, which changes) passes through. Builds reach it with the Docker CLI
 * config's `proxies` and the host network. Only plain HTTP: apt sources over https would pass by it.
 * Hand-written rather than apt-cacher-ng: one more daemon to install and configure (it also remaps known mirrors),
 * for what is here some 100 lines of node:http. It runs as a child process: the bench waits on the CLI with
 * spawnSync, which would stop a server in its own event loop (and every build waiting on it).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AptCacheStats {
  /** Requests answered from disk, and their bytes. */
  hits: number;
  hitBytes: number;
  /** Cacheable requests fetched from the network (then kept), and their bytes. */
  misses: number;
  missBytes: number;
  /** Requests passed through uncached (InRelease, errors…). */
  passed: number;
}

export interface AptCache {
  url: string;
  /** Counters since the last reset (to tell a warm-up's downloads from a timed run's). */
  stats(): Promise<AptCacheStats>;
  reset(): Promise<void>;
  close(): void;
}

const cacheable = (path: string) => /\.u?deb$/.test(path) || path.includes('/by-hash/');

/** Forwards to the origin, or through the host's own proxy when it has one. */
function upstream(url: URL, req: IncomingMessage, onResponse: (r: IncomingMessage) => void, onError: (e: Error) => void): void {
  const via = process.env.http_proxy || process.env.HTTP_PROXY;
  const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: url.host };
  delete headers['proxy-connection'];
  delete headers['proxy-authorization'];
  const target = via ? new URL(via) : url;
  const out = request(
    {
      host: target.hostname,
      port: target.port || 80,
      method: req.method,
      path: via ? url.href : url.pathname + url.search,
      headers,
      timeout: 60_000,
    },
    onResponse,
  );
  out.on('timeout', () => out.destroy(new Error('upstream timed out')));
  out.on('error', onError);
  out.end();
}

async function serve(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const stats: AptCacheStats = { hits: 0, hitBytes: 0, misses: 0, missBytes: 0, passed: 0 };
  const fail = (res: ServerResponse, status: number, message: string) => {
    if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`${message}\n`);
  };
  const server: Server = createServer((req, res) => {
    // the bench's own questions come as plain paths; proxy requests carry an absolute URL
    if (req.url === '/stats') return void res.end(JSON.stringify(stats));
    if (req.url === '/reset')
      return void res.end(JSON.stringify(Object.assign(stats, { hits: 0, hitBytes: 0, misses: 0, missBytes: 0, passed: 0 })));
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      return fail(res, 400, 'a proxy request with an absolute http:// URL was expected');
    }
    const file = join(dir, createHash('sha256').update(url.href).digest('hex'));
    if (req.method === 'GET' && cacheable(url.pathname) && existsSync(file)) {
      const size = statSync(file).size;
      stats.hits++;
      stats.hitBytes += size;
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    upstream(
      url,
      req,
      (up) => {
        const keep = req.method === 'GET' && up.statusCode === 200 && cacheable(url.pathname);
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!keep) {
          stats.passed++;
          up.pipe(res);
          return;
        }
        // written under a temporary name, renamed once complete: a cut download never becomes a hit
        const part = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.part`;
        const sink = createWriteStream(part);
        let bytes = 0;
        // the last chunk is held back until the file is in place: with a Content-Length the client is done on its
        // last byte, and a request right after must be a hit
        let held: Buffer | undefined;
        up.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          sink.write(chunk);
          if (held) res.write(held);
          held = chunk;
        });
        up.on('end', () => {
          sink.end(() => {
            const expected = Number(up.headers['content-length'] ?? bytes);
            if (up.complete && bytes === expected) {
              renameSync(part, file);
              stats.misses++;
              stats.missBytes += bytes;
            } else rmSync(part, { force: true });
            res.end(held);
          });
        });
        up.on('error', () => {
          sink.destroy();
          rmSync(part, { force: true });
          res.destroy();
        });
      },
      (e) => fail(res, 502, `upstream: ${e.message}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  // the bench was killed (no exit handler ran): do not outlive it
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.exit(0), 2000).unref();
}

/** Starts the cache in a child process (killed with the bench at the latest) and returns its address. */
export async function startAptCache(dir: string, timeoutMs = 10_000): Promise<AptCache> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the apt cache did not start within ${timeoutMs} ms`)), timeoutMs);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) {
        clearTimeout(timer);
        resolve(buf.trim());
      }
    });
    child.on('exit', (code) => reject(new Error(`the apt cache exited (${code})`)));
  });
  process.on('exit', () => child.kill());
  const ask = async (path: string) =>
    (await fetch(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) })).json() as Promise<AptCacheStats>;
  return {
    url,
    stats: () => ask('/stats'),
    reset: async () => void (await ask('/reset')),
    close: () => void child.kill(),
  };
}

if (process.argv[2] === 'serve' && process.argv[1] === fileURLToPath(import.meta.url)) await serve(process.argv[3]!);
