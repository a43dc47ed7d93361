/** The bench's apt cache: package files and by-hash indexes kept after one download, the rest passed through. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAptCache, type AptCache } from '../../bench/apt-cache.js';

/** A GET through the proxy (absolute URL in the request line, as apt sends it). */
function viaProxy(proxy: string, url: string): Promise<{ status: number; body: string }> {
  const p = new URL(proxy);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: p.hostname,
        port: p.port,
        path: url,
        headers: { host: url.startsWith('http') ? new URL(url).host : p.host },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('bench apt cache', () => {
  let origin: Server;
  let base: string;
  let dir: string;
  let cache: AptCache;
  const served: string[] = [];
  before(async () => {
    origin = createServer((req, res) => {
      served.push(req.url!);
      if (req.url!.includes('cut')) {
        // promises more than it sends: never to be kept
        res.writeHead(200, { 'content-length': '100' });
        res.write('short');
        setTimeout(() => res.destroy(), 50);
        return;
      }
      if (req.url!.includes('missing')) return void res.writeHead(404).end('no\n');
      res.end(`body of ${req.url}`);
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'idekube-apt-cache-'));
    cache = await startAptCache(dir);
  });
  after(() => {
    cache.close();
    origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a package file is fetched once, then served from disk', async () => {
    const url = `${base}/debian/pool/main/t/tini/tini_0.19.0-1_amd64.deb`;
    assert.deepEqual(await viaProxy(cache.url, url), { status: 200, body: 'body of /debian/pool/main/t/tini/tini_0.19.0-1_amd64.deb' });
    assert.deepEqual(await viaProxy(cache.url, url), { status: 200, body: 'body of /debian/pool/main/t/tini/tini_0.19.0-1_amd64.deb' });
    assert.equal(served.filter((u) => u.endsWith('.deb')).length, 1);
    const s = await cache.stats();
    assert.equal(s.misses, 1);
    assert.equal(s.hits, 1);
  });

  it('by-hash indexes are kept; InRelease and errors pass through every time', async () => {
    const byHash = `${base}/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/abc`;
    await viaProxy(cache.url, byHash);
    await viaProxy(cache.url, byHash);
    assert.equal(served.filter((u) => u.includes('by-hash')).length, 1);
    await viaProxy(cache.url, `${base}/debian/dists/bookworm/InRelease`);
    await viaProxy(cache.url, `${base}/debian/dists/bookworm/InRelease`);
    assert.equal(served.filter((u) => u.endsWith('InRelease')).length, 2);
    assert.equal((await viaProxy(cache.url, `${base}/debian/pool/missing_1_amd64.deb`)).status, 404);
    assert.equal((await viaProxy(cache.url, `${base}/debian/pool/missing_1_amd64.deb`)).status, 404);
    assert.equal(served.filter((u) => u.includes('missing')).length, 2);
  });

  it('a download cut short is not kept', async () => {
    const url = `${base}/debian/pool/cut_1_amd64.deb`;
    await viaProxy(cache.url, url).catch(() => undefined);
    await viaProxy(cache.url, url).catch(() => undefined);
    assert.equal(served.filter((u) => u.includes('cut')).length, 2);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.part')), 'a partial file was left behind');
  });

  it('reset puts the counters back to zero', async () => {
    await cache.reset();
    assert.deepEqual(await cache.stats(), { hits: 0, hitBytes: 0, misses: 0, missBytes: 0, passed: 0 });
  });

  it('a request that is not a proxy request is refused with a reason', async () => {
    const r = await viaProxy(cache.url, '/debian/pool/x.deb');
    assert.equal(r.status, 400);
    assert.match(r.body, /absolute http:\/\/ URL/);
  });
});
