/**
 * A BuildKit client session for Engine API builds, as `docker build` opens one: `POST /session` is upgraded to
 * HTTP/2 cleartext, and on that connection the daemon is the gRPC client and we are the server. Only what idekube
 * needs is served: build secrets (moby.buildkit.secrets.v1.Secrets/GetSecret) and the health check that BuildKit
 * polls every 5 s (it drops the session after two failures). Any other method answers UNIMPLEMENTED, which BuildKit
 * reads as "not offered" (registry credentials then stay anonymous, as without a session).
 *
 * Protocol as in moby/buildkit session/session.go, session/manager.go, session/grpc.go, session/secrets/ and
 * docker/cli's build (DialHijack on the unversioned "/session").
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { isAbsolute } from 'node:path';
import { Duplex } from 'node:stream';
import { messageOf, RunError } from '../config/errors.js';
import type { Engine } from './connect.js';

export interface BuildSession {
  /** Pass as the build's `session` query parameter. */
  id: string;
  /** Ends the HTTP/2 session and the connection (idempotent, bounded). */
  close(): Promise<void>;
}

export interface SessionOptions {
  signal?: AbortSignal;
  /** How long to wait for `101 Switching Protocols` (default 10 s). */
  timeoutMs?: number;
}

export const SECRETS_GET = '/moby.buildkit.secrets.v1.Secrets/GetSecret';
export const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
/** BuildKit's secretsprovider.MaxSecretSize: the docker CLI refuses bigger files, so do we. */
export const MAX_SECRET_SIZE = 500 * 1024;
/** A GetSecretRequest is an id and a few annotations; anything much bigger is not one. */
const MAX_REQUEST_SIZE = 64 * 1024;

export const GrpcStatus = { OK: 0, UNKNOWN: 2, INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12 } as const;

// ---- protobuf, just the two messages (and the health answer) ----

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field (wire type 2): strings, bytes, embedded messages. */
function lengthField(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(value.length), value]);
}

/** Length-delimited fields of a message, in order; other wire types are skipped. */
function* lengthFields(buf: Buffer): Generator<[number, Buffer]> {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= buf.length || shift > 49) throw new Error('truncated protobuf varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
    }
  };
  while (pos < buf.length) {
    const key = readVarint();
    const wire = key & 7;
    if (wire === 0) readVarint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = readVarint();
      if (pos + len > buf.length) throw new Error('truncated protobuf field');
      yield [Math.floor(key / 8), buf.subarray(pos, pos + len)];
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated protobuf field');
  }
}

export interface GetSecretRequest {
  id: string;
  annotations: Record<string, string>;
}

/** `GetSecretRequest { string ID = 1; map<string,string> annotations = 2; }` (a map is repeated {key=1, value=2}). */
export function encodeGetSecretRequest(req: GetSecretRequest): Buffer {
  const entries = Object.entries(req.annotations).map(([k, v]) =>
    lengthField(2, Buffer.concat([lengthField(1, Buffer.from(k)), lengthField(2, Buffer.from(v))])),
  );
  return Buffer.concat([req.id ? lengthField(1, Buffer.from(req.id)) : Buffer.alloc(0), ...entries]);
}

export function decodeGetSecretRequest(buf: Buffer): GetSecretRequest {
  const req: GetSecretRequest = { id: '', annotations: {} };
  for (const [field, value] of lengthFields(buf)) {
    if (field === 1) req.id = value.toString('utf8');
    else if (field === 2) {
      let k = '';
      let v = '';
      for (const [f, x] of lengthFields(value)) {
        if (f === 1) k = x.toString('utf8');
        else if (f === 2) v = x.toString('utf8');
      }
      req.annotations[k] = v;
    }
  }
  return req;
}

/** `GetSecretResponse { bytes data = 1; }` (proto3: an empty secret is an empty message). */
export function encodeGetSecretResponse(data: Buffer): Buffer {
  return data.length ? lengthField(1, data) : Buffer.alloc(0);
}

export function decodeGetSecretResponse(buf: Buffer): Buffer {
  let data = Buffer.alloc(0);
  for (const [field, value] of lengthFields(buf)) if (field === 1) data = Buffer.from(value);
  return data;
}

/** `HealthCheckResponse { status: SERVING }` (field 1, varint 1). */
export const HEALTH_SERVING = Buffer.from([0x08, 0x01]);

// ---- gRPC length-prefixed messages ----

/** One uncompressed gRPC message: flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The messages of a complete gRPC body; a compressed one or a cut-off frame is an error. */
export function grpcUnframe(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (pos + 5 > body.length) throw new Error('truncated gRPC frame header');
    if (body[pos] !== 0) throw new Error('compressed gRPC messages are not supported');
    const len = body.readUInt32BE(pos + 1);
    if (pos + 5 + len > body.length) throw new Error('truncated gRPC message');
    out.push(body.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  return out;
}

/** grpc-message is percent-encoded outside printable ASCII (and '%' itself). */
export function encodeGrpcMessage(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (b) =>
    b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}

// ---- the gRPC server on the upgraded connection ----

interface Answer {
  status: number;
  message?: string;
  body?: Buffer;
}

async function getSecret(secrets: Record<string, string>, body: Buffer): Promise<Answer> {
  const [message] = grpcUnframe(body);
  if (!message) return { status: GrpcStatus.INVALID_ARGUMENT, message: 'empty request' };
  const { id } = decodeGetSecretRequest(message);
  const file = Object.hasOwn(secrets, id) ? secrets[id] : undefined;
  if (file === undefined) return { status: GrpcStatus.NOT_FOUND, message: `secret ${id} not found` };
  // Read now, not at session start: the file may be written between the two.
  const data = await readFile(file);
  if (data.length > MAX_SECRET_SIZE) return { status: GrpcStatus.RESOURCE_EXHAUSTED, message: `invalid secret size ${data.length}` };
  return { status: GrpcStatus.OK, body: grpcFrame(encodeGetSecretResponse(data)) };
}

async function answer(secrets: Record<string, string>, path: string, body: Buffer): Promise<Answer> {
  try {
    if (path === SECRETS_GET) return await getSecret(secrets, body);
    if (path === HEALTH_CHECK) return { status: GrpcStatus.OK, body: grpcFrame(HEALTH_SERVING) };
    return { status: GrpcStatus.UNIMPLEMENTED, message: `unknown method ${path}` };
  } catch (e) {
    return { status: GrpcStatus.UNKNOWN, message: messageOf(e) };
  }
}

function respond(stream: http2.ServerHttp2Stream, a: Answer): void {
  if (stream.destroyed || stream.closed) return;
  const head = { ':status': 200, 'content-type': 'application/grpc' };
  try {
    if (!a.body) {
      // Trailers-only response: status in the one HEADERS frame, which ends the stream.
      stream.respond(
        { ...head, 'grpc-status': String(a.status), ...(a.message ? { 'grpc-message': encodeGrpcMessage(a.message) } : {}) },
        { endStream: true },
      );
      return;
    }
    stream.respond(head, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(a.status) }));
    stream.end(a.body);
  } catch {
    stream.destroy(); // the call went away meanwhile (session closing): nobody is left to answer
  }
}

function onStream(secrets: Record<string, string>, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on('error', () => {}); // the daemon may reset a call it no longer wants
  const path = String(headers[':path'] ?? '');
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REQUEST_SIZE) chunks.push(chunk);
  });
  stream.on('end', () => {
    if (size > MAX_REQUEST_SIZE) return respond(stream, { status: GrpcStatus.RESOURCE_EXHAUSTED, message: 'request too large' });
    void answer(secrets, path, Buffer.concat(chunks)).then((a) => respond(stream, a));
  });
}

// ---- POST /session and the upgrade ----

/** The parts of docker-modem that locate the engine (dockerode's `engine.modem`). */
interface Modem {
  socketPath?: string | (() => string | Promise<string>);
  host?: string;
  port?: number | string;
  protocol?: string;
  version?: string;
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer | Array<string | Buffer>;
  key?: string | Buffer | Array<string | Buffer>;
}

/** docker-modem keeps its constructor options on itself; @types/docker-modem declares none of them as fields. */
function modemOf(engine: Engine): Modem {
  return engine.modem as Modem;
}

type Target = { kind: 'unix'; socketPath: string } | { kind: 'http' | 'https'; host: string; port: number };

/** Whether this engine endpoint can carry our session (unix socket, tcp, https; not ssh). */
export function canOpenSession(engine: Engine): boolean {
  const modem = modemOf(engine);
  const protocol = modem.protocol ?? 'http';
  return Boolean(modem.socketPath) || (Boolean(modem.host) && (protocol === 'http' || protocol === 'https'));
}

async function targetOf(modem: Modem): Promise<Target> {
  if (modem.socketPath) {
    const socketPath = typeof modem.socketPath === 'function' ? await modem.socketPath() : modem.socketPath;
    return { kind: 'unix', socketPath };
  }
  const protocol = modem.protocol ?? 'http';
  if (modem.host && (protocol === 'http' || protocol === 'https')) {
    return { kind: protocol, host: modem.host, port: Number(modem.port ?? (protocol === 'https' ? 2376 : 2375)) };
  }
  const what = modem.host ? `${protocol}://${modem.host}` : 'neither a socket path nor a host';
  throw new RunError(`build secrets need a unix or tcp engine endpoint (this one is ${what})`, {
    fix: 'point DOCKER_HOST / --engine at unix:///path or tcp://host:port, or build without secrets',
  });
}

function sessionHeaders(id: string): http.OutgoingHttpHeaders {
  return {
    Upgrade: 'h2c',
    Connection: 'Upgrade',
    'X-Docker-Expose-Session-Uuid': id,
    'X-Docker-Expose-Session-Name': 'idekube',
    'X-Docker-Expose-Session-Sharedkey': randomBytes(32).toString('hex'),
    // One header line per method (an array): the daemon reads them all and matches case-insensitively.
    'X-Docker-Expose-Session-Grpc-Method': [SECRETS_GET, HEALTH_CHECK],
  };
}

/** Sends the upgrade request; resolves with the raw socket (and any bytes that came after the 101). */
function upgrade(modem: Modem, target: Target, id: string, timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
  const path = `${modem.version ? `/${modem.version}` : ''}/session`;
  const where = target.kind === 'unix' ? `unix://${target.socketPath}` : `${target.kind}://${target.host}:${target.port}`;
  const common = { method: 'POST', path, headers: sessionHeaders(id), agent: false as const };
  const req =
    target.kind === 'unix'
      ? http.request({ ...common, socketPath: target.socketPath })
      : target.kind === 'http'
        ? http.request({ ...common, host: target.host, port: target.port })
        : https.request({ ...common, host: target.host, port: target.port, ca: modem.ca, cert: modem.cert, key: modem.key });
  return new Promise<Duplex>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, socket?: Duplex) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(socket!);
    };
    const timer = setTimeout(
      () => finish(new RunError(`the engine at ${where} did not open a build session within ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    const onAbort = () => finish(new RunError('build cancelled'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('upgrade', (_res, socket, head) => {
      if (head.length) socket.unshift(head);
      if (settled) socket.destroy();
      else finish(undefined, socket);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8').trim().slice(0, 300);
        finish(
          new RunError(`the engine at ${where} refused a build session: HTTP ${res.statusCode}${text ? ` ${text}` : ''}`, {
            fix: 'build secrets need an engine with BuildKit (dockerd 18.09 or later)',
          }),
        );
      });
    });
    req.on('error', (e) => finish(new RunError(`build session: cannot reach the engine at ${where}: ${e.message}`, { cause: e })));
    req.end();
  });
}

/** Checks the files now, as the docker CLI does, so a missing one fails before the build rather than inside it. */
async function checkSecrets(secrets: Record<string, string>): Promise<void> {
  for (const [id, file] of Object.entries(secrets)) {
    if (!id) throw new RunError('a build secret has an empty id');
    if (!isAbsolute(file)) throw new RunError(`build secret ${id}: ${file} is not an absolute path`);
    const s = await stat(file).catch((e: Error) => {
      throw new RunError(`build secret ${id}: cannot read ${file}: ${e.message}`, { cause: e });
    });
    if (!s.isFile()) throw new RunError(`build secret ${id}: ${file} is not a file`);
    if (s.size > MAX_SECRET_SIZE)
      throw new RunError(`build secret ${id}: ${file} is ${s.size} bytes, more than BuildKit's ${MAX_SECRET_SIZE}`);
  }
}

/**
 * A TLS socket that carried HTTP/1.1 cannot be handed to node:http2 as it is (Node 20: "Protocol error" on our side,
 * a failed native assertion on the peer's); behind a plain JS stream it works.
 */
export function plainStream(socket: Duplex): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => {
      socket.end();
      cb();
    },
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

function closer(h2: () => http2.ServerHttp2Session | undefined, socket: Duplex): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      // GOAWAY and wait for calls in flight (a health check), but not for long.
      const timer = setTimeout(() => {
        h2()?.destroy();
        done();
      }, 1000);
      const session = h2();
      if (session && !session.closed && !session.destroyed) session.close(done);
      else done();
    }));
}

/**
 * Opens a session that offers `secrets` (id → absolute file path, read when the daemon asks) to builds that pass
 * its id. Close it after the build; it holds no reference on the event loop meanwhile.
 */
export async function openBuildSession(engine: Engine, secrets: Record<string, string>, opts: SessionOptions = {}): Promise<BuildSession> {
  const modem = modemOf(engine);
  const target = await targetOf(modem);
  await checkSecrets(secrets);
  const id = randomBytes(16).toString('hex');
  const socket = await upgrade(modem, target, id, opts.timeoutMs ?? 10_000, opts.signal);
  const table = { ...secrets };
  let session: http2.ServerHttp2Session | undefined;
  const server = http2.createServer();
  server.setTimeout(0);
  server.on('session', (s: http2.ServerHttp2Session) => {
    session = s;
    s.on('error', () => {}); // a daemon that goes away mid-build fails the build itself, with its own message
  });
  server.on('sessionError', () => {});
  server.on('stream', (stream, headers) => onStream(table, stream, headers));
  socket.on('error', () => {});
  // The daemon speaks first (HTTP/2 prior knowledge): hand the socket to an unbound HTTP/2 server.
  // a TLS socket (https endpoint) says so; a plain one may let go of the event loop
  server.emit('connection', 'encrypted' in socket && socket.encrypted ? plainStream(socket) : socket);
  if ('unref' in socket && typeof socket.unref === 'function') socket.unref();
  return { id, close: closer(() => session, socket) };
}
