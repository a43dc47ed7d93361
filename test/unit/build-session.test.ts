/**
 * The BuildKit session of src/engine/session.ts without an engine: the protobuf and gRPC framing helpers, then a
 * stand-in daemon (node:http on a unix socket or loopback tcp) that answers `POST /session` with 101 and, like
 * dockerd, becomes the HTTP/2 client on the upgraded connection and calls GetSecret and Health/Check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RunError } from '../../src/config/errors.js';
import type { Engine } from '../../src/engine/connect.js';
import {
  decodeGetSecretRequest,
  decodeGetSecretResponse,
  encodeGetSecretRequest,
  encodeGetSecretResponse,
  encodeGrpcMessage,
  grpcFrame,
  grpcUnframe,
  HEALTH_CHECK,
  HEALTH_SERVING,
  openBuildSession,
  plainStream,
  SECRETS_GET,
  type BuildSession,
} from '../../src/engine/session.js';

describe('session protobuf and gRPC framing', () => {
  it('GetSecretRequest: field 1 is the id, field 2 a map entry {key=1, value=2}', () => {
    assert.deepEqual(encodeGetSecretRequest({ id: 's1', annotations: {} }), Buffer.from([0x0a, 0x02, 0x73, 0x31]));
    const req = { id: 'idekube-ca', annotations: { a: 'b', 'long.key': 'x'.repeat(200) } };
    assert.deepEqual(decodeGetSecretRequest(encodeGetSecretRequest(req)), req);
    // as protoc would write one map entry: 12 06 (0a 01 'k') (12 01 'v')
    assert.deepEqual(decodeGetSecretRequest(Buffer.from([0x12, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76, 0x0a, 0x01, 0x78])), {
      id: 'x',
      annotations: { k: 'v' },
    });
  });

  it('GetSecretResponse: bytes field 1, multi-byte lengths, empty data', () => {
    const data = Buffer.concat([Buffer.from([0, 0xff, 0x0a]), Buffer.alloc(300, 0x41)]);
    const encoded = encodeGetSecretResponse(data);
    assert.deepEqual(encoded.subarray(0, 3), Buffer.from([0x0a, 0xaf, 0x02])); // 303 = 0xaf 0x02
    assert.deepEqual(decodeGetSecretResponse(encoded), data);
    assert.equal(encodeGetSecretResponse(Buffer.alloc(0)).length, 0);
    assert.equal(decodeGetSecretResponse(Buffer.alloc(0)).length, 0);
    assert.deepEqual(HEALTH_SERVING, Buffer.from([0x08, 0x01]));
  });

  it('a truncated message is an error, unknown fields are skipped', () => {
    assert.throws(() => decodeGetSecretRequest(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);
    assert.deepEqual(decodeGetSecretRequest(Buffer.from([0x18, 0x96, 0x01, 0x0a, 0x01, 0x61])), { id: 'a', annotations: {} });
  });

  it('gRPC frames: flag, big-endian length, message; several in one body', () => {
    assert.deepEqual(grpcFrame(Buffer.from('ab')), Buffer.from([0, 0, 0, 0, 2, 0x61, 0x62]));
    const body = Buffer.concat([grpcFrame(Buffer.from('one')), grpcFrame(Buffer.alloc(0)), grpcFrame(Buffer.alloc(70_000, 1))]);
    assert.deepEqual(
      grpcUnframe(body).map((m) => m.length),
      [3, 0, 70_000],
    );
    assert.throws(() => grpcUnframe(Buffer.from([0, 0, 0])), /truncated/);
    assert.throws(() => grpcUnframe(Buffer.from([0, 0, 0, 0, 9, 1])), /truncated/);
    assert.throws(() => grpcUnframe(Buffer.from([1, 0, 0, 0, 0])), /compressed/);
  });

  it('grpc-message is percent-encoded outside printable ASCII', () => {
    assert.equal(encodeGrpcMessage('secret é 100%\n'), 'secret %C3%A9 100%25%0A');
  });
});

// ---- a stand-in daemon ----

interface Call {
  status: number;
  message?: string;
  contentType?: string;
  body: Buffer;
}

interface Daemon {
  server: Server;
  /** Headers and path of each POST /session. */
  seen: { url: string; headers: IncomingHttpHeaders }[];
  /** The HTTP/2 client on the last upgraded connection. */
  client(): Promise<http2.ClientHttp2Session>;
  sockets: Set<Duplex>;
  close(): Promise<void>;
}

type Mode = 'upgrade' | 'refuse' | 'silent';

function startDaemon(listen: (s: Server) => Promise<void>, mode: Mode = 'upgrade', tls?: { key: Buffer; cert: Buffer }): Promise<Daemon> {
  const seen: Daemon['seen'] = [];
  const sockets = new Set<Duplex>();
  let resolveClient: (c: http2.ClientHttp2Session) => void;
  let clientPromise = new Promise<http2.ClientHttp2Session>((r) => (resolveClient = r));
  const server = (tls ? https.createServer(tls) : createServer()) as Server;
  server.on('request', (req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"no upgrade proto in request"}\n');
  });
  server.on('upgrade', (req, socket: Socket) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (mode === 'silent') return;
    if (mode === 'refuse') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nprotocol not allowed');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
    // Like dockerd: the gRPC client on the hijacked connection, HTTP/2 with prior knowledge.
    const client = http2.connect('http://localhost', { createConnection: () => (tls ? plainStream(socket) : socket) });
    client.on('error', () => {});
    resolveClient(client);
  });
  return listen(server).then(() => ({
    server,
    seen,
    sockets,
    client: () => clientPromise,
    async close() {
      for (const s of sockets) s.destroy();
      clientPromise = new Promise((r) => (resolveClient = r));
      await new Promise<void>((r) => server.close(() => r()));
    },
  }));
}

function call(client: http2.ClientHttp2Session, path: string, message?: Buffer): Promise<Call> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    const timer = setTimeout(() => reject(new Error(`no answer to ${path} within 5 s`)), 5000);
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    const finish = (trailers: http2.IncomingHttpHeaders) => {
      clearTimeout(timer);
      const all = { ...head, ...trailers };
      const msg = all['grpc-message'];
      resolve({
        status: Number(all['grpc-status']),
        ...(typeof msg === 'string' ? { message: decodeURIComponent(msg) } : {}),
        ...(typeof head['content-type'] === 'string' ? { contentType: head['content-type'] } : {}),
        body: Buffer.concat(chunks),
      });
    };
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on('trailers', (t) => (trailers = t));
    stream.on('end', () => finish(trailers));
    stream.end(message ? grpcFrame(message) : undefined);
  });
}

const fakeEngine = (modem: Record<string, unknown>) => ({ modem }) as unknown as Engine;

describe('openBuildSession against a stand-in daemon', { timeout: 60_000 }, () => {
  let dir: string;
  let secretFile: string;
  let unix: Daemon;
  let tcp: Daemon;
  const secret = Buffer.concat([Buffer.from('-----BEGIN CERTIFICATE-----\n'), Buffer.from([0, 1, 2, 0xff]), Buffer.alloc(400, 0x4d)]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idekube-session-'));
    secretFile = join(dir, 'ca.pem');
    writeFileSync(secretFile, secret);
    unix = await startDaemon((s) => new Promise((r) => s.listen(join(dir, 'docker.sock'), r)));
    tcp = await startDaemon((s) => new Promise((r) => s.listen(0, '127.0.0.1', r)));
  });
  after(async () => {
    await unix.close();
    await tcp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('over a unix socket', () => {
    let session: BuildSession;
    let client: http2.ClientHttp2Session;
    before(async () => {
      session = await openBuildSession(fakeEngine({ socketPath: join(dir, 'docker.sock') }), { 'idekube-ca': secretFile });
      client = await unix.client();
    });
    after(() => session.close());

    it('POST /session asks for h2c with the session headers, one method per header line', () => {
      const { url, headers } = unix.seen.at(-1)!;
      assert.equal(url, '/session');
      assert.equal(headers.upgrade, 'h2c');
      assert.equal(headers.connection, 'Upgrade');
      assert.equal(headers['x-docker-expose-session-uuid'], session.id);
      assert.equal(headers['x-docker-expose-session-name'], 'idekube');
      assert.match(String(headers['x-docker-expose-session-sharedkey']), /^[0-9a-f]{64}$/);
      // node:http joins repeated headers with ", "
      assert.equal(headers['x-docker-expose-session-grpc-method'], `${SECRETS_GET}, ${HEALTH_CHECK}`);
      assert.match(session.id, /^[0-9a-f]{32}$/);
    });

    it('GetSecret for a known id answers the file bytes', async () => {
      const r = await call(client, SECRETS_GET, encodeGetSecretRequest({ id: 'idekube-ca', annotations: { k: 'v' } }));
      assert.equal(r.status, 0);
      assert.equal(r.contentType, 'application/grpc');
      const [message, ...rest] = grpcUnframe(r.body);
      assert.equal(rest.length, 0);
      assert.deepEqual(decodeGetSecretResponse(message!), secret);
    });

    it('the file is read when asked, not when the session opened', async () => {
      const changed = Buffer.from('changed\n');
      writeFileSync(secretFile, changed);
      try {
        const r = await call(client, SECRETS_GET, encodeGetSecretRequest({ id: 'idekube-ca', annotations: {} }));
        assert.deepEqual(decodeGetSecretResponse(grpcUnframe(r.body)[0]!), changed);
      } finally {
        writeFileSync(secretFile, secret);
      }
    });

    it('an unknown id is NOT_FOUND (so a required=false mount is just absent)', async () => {
      const r = await call(client, SECRETS_GET, encodeGetSecretRequest({ id: 'absent', annotations: {} }));
      assert.equal(r.status, 5);
      assert.equal(r.message, 'secret absent not found');
      assert.equal(r.body.length, 0);
    });

    it('Health/Check answers SERVING', async () => {
      const r = await call(client, HEALTH_CHECK, Buffer.alloc(0));
      assert.equal(r.status, 0);
      assert.deepEqual(grpcUnframe(r.body), [HEALTH_SERVING]);
    });

    it('any other method is UNIMPLEMENTED', async () => {
      const r = await call(client, '/moby.filesync.v1.Auth/Credentials', Buffer.from([0x0a, 0x01, 0x78]));
      assert.equal(r.status, 12);
      assert.match(r.message ?? '', /unknown method/);
    });

    it('several calls at once each get their answer', async () => {
      const calls = await Promise.all([
        call(client, HEALTH_CHECK, Buffer.alloc(0)),
        call(client, SECRETS_GET, encodeGetSecretRequest({ id: 'idekube-ca', annotations: {} })),
        call(client, SECRETS_GET, encodeGetSecretRequest({ id: 'nope', annotations: {} })),
      ]);
      assert.deepEqual(
        calls.map((c) => c.status),
        [0, 0, 5],
      );
    });

    it('close() ends the connection, twice is fine', async () => {
      const closed = new Promise<void>((r) => client.once('close', () => r()));
      await session.close();
      await session.close();
      await closed;
      assert.equal(unix.sockets.size, 0);
    });
  });

  it('over tcp (http), through host and port', async () => {
    const { port } = tcp.server.address() as AddressInfo;
    const session = await openBuildSession(fakeEngine({ host: '127.0.0.1', port, protocol: 'http' }), { s1: secretFile });
    try {
      const r = await call(await tcp.client(), SECRETS_GET, encodeGetSecretRequest({ id: 's1', annotations: {} }));
      assert.equal(r.status, 0);
      assert.deepEqual(decodeGetSecretResponse(grpcUnframe(r.body)[0]!), secret);
      assert.equal(tcp.seen.at(-1)!.headers['x-docker-expose-session-uuid'], session.id);
    } finally {
      await session.close();
    }
  });

  it('over tcp with TLS (https), when openssl can make a certificate', async (t) => {
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    if (made.status !== 0) return t.skip('no openssl');
    const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    const daemon = await startDaemon((s) => new Promise((r) => s.listen(0, '127.0.0.1', r)), 'upgrade', tls);
    try {
      const { port } = daemon.server.address() as AddressInfo;
      const session = await openBuildSession(fakeEngine({ host: '127.0.0.1', port, protocol: 'https', ca: tls.cert }), { s1: secretFile });
      try {
        const client = await daemon.client();
        const r = await call(client, SECRETS_GET, encodeGetSecretRequest({ id: 's1', annotations: {} }));
        assert.equal(r.status, 0);
        assert.deepEqual(decodeGetSecretResponse(grpcUnframe(r.body)[0]!), secret);
        assert.equal((await call(client, HEALTH_CHECK, Buffer.alloc(0))).status, 0);
      } finally {
        await session.close();
      }
    } finally {
      await daemon.close();
    }
  });

  it('the API version of the modem prefixes the path', async () => {
    const session = await openBuildSession(fakeEngine({ socketPath: join(dir, 'docker.sock'), version: 'v1.41' }), { s1: secretFile });
    await session.close();
    assert.equal(unix.seen.at(-1)!.url, '/v1.41/session');
  });

  it('ssh and unknown endpoints are refused with a RunError', async () => {
    await assert.rejects(
      openBuildSession(fakeEngine({ host: 'example.invalid', port: 22, protocol: 'ssh' }), { s1: secretFile }),
      (e: Error) => {
        assert.ok(e instanceof RunError);
        assert.match(e.message, /need a unix or tcp engine endpoint/);
        return true;
      },
    );
    await assert.rejects(openBuildSession(fakeEngine({}), { s1: secretFile }), RunError);
  });

  it('a missing or relative secret file fails before any connection', async () => {
    const before = unix.seen.length;
    await assert.rejects(
      openBuildSession(fakeEngine({ socketPath: join(dir, 'docker.sock') }), { s1: join(dir, 'nope') }),
      /build secret s1: cannot read/,
    );
    await assert.rejects(openBuildSession(fakeEngine({ socketPath: join(dir, 'docker.sock') }), { s1: 'ca.pem' }), /not an absolute path/);
    assert.equal(unix.seen.length, before);
  });

  it('a daemon that refuses, or never answers, gives a clear RunError (bounded)', async () => {
    const refusing = await startDaemon((s) => new Promise((r) => s.listen(join(dir, 'refuse.sock'), r)), 'refuse');
    const silent = await startDaemon((s) => new Promise((r) => s.listen(join(dir, 'silent.sock'), r)), 'silent');
    try {
      await assert.rejects(
        openBuildSession(fakeEngine({ socketPath: join(dir, 'refuse.sock') }), { s1: secretFile }),
        /refused a build session: HTTP 400 protocol not allowed/,
      );
      const t0 = Date.now();
      await assert.rejects(
        openBuildSession(fakeEngine({ socketPath: join(dir, 'silent.sock') }), { s1: secretFile }, { timeoutMs: 300 }),
        /did not open a build session within 0.3s/,
      );
      assert.ok(Date.now() - t0 < 3000);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      await assert.rejects(
        openBuildSession(fakeEngine({ socketPath: join(dir, 'silent.sock') }), { s1: secretFile }, { signal: ac.signal }),
        /build cancelled/,
      );
      await assert.rejects(
        openBuildSession(fakeEngine({ socketPath: join(dir, 'no-daemon.sock') }), { s1: secretFile }),
        /cannot reach the engine at unix:\/\//,
      );
    } finally {
      await refusing.close();
      await silent.close();
    }
  });
});
