/** The registry client against a local HTTP server: retries with backoff, token auth, credentials from the Docker config. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/registry/client.js';
import { credentialsFor, engineAuth } from '../../src/registry/credentials.js';
import { parseRef } from '../../src/config/image-ref.js';
import { MEDIA } from '../../src/registry/types.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('registry client', () => {
  let handler: Handler = (_req, res) => res.end();
  let host = '';
  const server = createServer((req, res) => handler(req, res));
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  it('retries 503s with backoff, then succeeds', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls < 3) {
        res.statusCode = 503;
        return res.end('busy');
      }
      res.setHeader('content-type', MEDIA.dockerManifest);
      res.setHeader('docker-content-digest', 'sha256:abc');
      res.end(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:c' }, layers: [] }));
    };
    const t0 = Date.now();
    const m = await new RegistryClient(host, { backoffMs: 50 }).getManifest('a/b', 'v1');
    assert.equal(calls, 3);
    assert.equal(m?.digest, 'sha256:abc');
    assert.ok(Date.now() - t0 >= 150, 'waited 50 + 100 ms between attempts');
  });

  it('a list PUT answered MANIFEST_BLOB_UNKNOWN (the same image pushed at that moment by another lineup) is tried again, bounded', async () => {
    let puts = 0;
    const blobUnknown = JSON.stringify({
      errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'sha256:1e' }],
    });
    handler = (req, res) => {
      if (req.method !== 'PUT') return res.end();
      puts++;
      if (puts < 3) {
        res.statusCode = 400;
        return res.end(blobUnknown);
      }
      res.statusCode = 201;
      res.setHeader('docker-content-digest', 'sha256:list');
      res.end();
    };
    assert.equal(await new RegistryClient(host).putManifest('a/b', 'v1', MEDIA.dockerList, Buffer.from('{}')), 'sha256:list');
    assert.equal(puts, 3);
    // a reference that never appears: the same error, after 5 tries
    puts = -100;
    await assert.rejects(
      new RegistryClient(host).putManifest('a/b', 'v1', MEDIA.dockerList, Buffer.from('{}')),
      /PUT manifest a\/b:v1 answered HTTP 400: .*MANIFEST_BLOB_UNKNOWN/,
    );
    assert.equal(puts, -95);
  });

  it('gives up after its retries with an error naming the registry and a fix', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      res.statusCode = 500;
      res.end('down');
    };
    await assert.rejects(new RegistryClient(host, { backoffMs: 1, retries: 2 }).getManifest('a/b', 'v1'), (e: Error & { fix?: string }) => {
      assert.equal(e.message, `registry ${host}: GET manifest a/b:v1 answered HTTP 500: down`);
      assert.match(e.fix ?? '', /check the registry/);
      return true;
    });
    assert.equal(calls, 3, 'one try and two retries');
  });

  it('a 404 manifest is "absent", not an error', async () => {
    handler = (_req, res) => {
      res.statusCode = 404;
      res.end('{}');
    };
    assert.equal(await new RegistryClient(host, { backoffMs: 1 }).getManifest('a/b', 'nope'), undefined);
  });

  it('follows a Bearer challenge with the Docker config credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-dockercfg-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { [host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }),
    );
    const seen: string[] = [];
    handler = (req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.url?.startsWith('/token')) {
        assert.equal(req.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
        return res.end(JSON.stringify({ token: 'T0K' }));
      }
      if (req.headers.authorization !== 'Bearer T0K') {
        res.statusCode = 401;
        res.setHeader('www-authenticate', `Bearer realm="http://${host}/token",service="test",scope="repository:a/b:pull"`);
        return res.end();
      }
      res.statusCode = 404;
      res.end();
    };
    assert.equal(await new RegistryClient(host, { env: { DOCKER_CONFIG: dir } }).getManifest('a/b', 'v1'), undefined);
    assert.ok(seen.some((s) => s.startsWith('/token?service=test&scope=repository%3Aa%2Fb%3Apull')));
    assert.ok(seen.some((s) => s.endsWith('Bearer T0K')));
  });
});

describe('registry client without a server', () => {
  it('connection refused: retried, then "unreachable" with a fix', async () => {
    const { createServer: net } = await import('node:net');
    const srv = net();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    await assert.rejects(
      new RegistryClient(`127.0.0.1:${port}`, { backoffMs: 1, retries: 1 }).getManifest('a/b', 'v1'),
      (e: Error & { fix?: string }) => {
        assert.match(e.message, new RegExp(`registry 127.0.0.1:${port} unreachable: GET /v2/a/b/manifests/v1: fetch failed: ECONNREFUSED`));
        assert.match(e.fix ?? '', /check that the registry is running and reachable/);
        return true;
      },
    );
  });
});

describe('credentials from the Docker config', () => {
  it('reads inline auths, and credHelpers through docker-credential-<name>', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-dockercfg-'));
    const bin = join(dir, 'bin');
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') } },
        credHelpers: { 'ghcr.io': 'fake' },
      }),
    );
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'docker-credential-fake'),
      '#!/bin/sh\nread server\nprintf \'{"ServerURL":"%s","Username":"bob","Secret":"tok"}\' "$server"\n',
    );
    chmodSync(join(bin, 'docker-credential-fake'), 0o755);
    const env = { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` };
    const saved = process.env.PATH;
    process.env.PATH = env.PATH;
    try {
      assert.deepEqual(credentialsFor('docker.io', env), { username: 'hub', password: 'pw' });
      assert.deepEqual(credentialsFor('ghcr.io', env), { username: 'bob', password: 'tok' });
      assert.deepEqual(engineAuth('ghcr.io', env), { username: 'bob', password: 'tok', serveraddress: 'ghcr.io' });
      assert.equal(credentialsFor('quay.io', env), undefined);
    } finally {
      process.env.PATH = saved;
    }
  });
  it('parses references like the Docker CLI', () => {
    assert.deepEqual(parseRef('ubuntu:24.04'), { registry: 'docker.io', repository: 'library/ubuntu', reference: '24.04' });
    assert.deepEqual(parseRef('davidliyutong/idekube-container:featured-base-v1'), {
      registry: 'docker.io',
      repository: 'davidliyutong/idekube-container',
      reference: 'featured-base-v1',
    });
    assert.deepEqual(parseRef('127.0.0.1:5000/a/b:t'), { registry: '127.0.0.1:5000', repository: 'a/b', reference: 't' });
    assert.deepEqual(parseRef('localhost/a@sha256:ff'), { registry: 'localhost', repository: 'a', reference: 'sha256:ff' });
  });
});
