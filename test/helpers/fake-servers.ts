/**
 * Stand-ins for what `idekube test` talks to, on 127.0.0.1: an HTTP server with a route table, WebSocket
 * endpoints that greet with given bytes (or hand the socket to an SSH server), and a local Exec that runs
 * commands on this machine (for the runtime's own scripts, with stubs on PATH).
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Exec } from '../../src/verify/exec.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeServer {
  port: number;
  close(): Promise<void>;
}

export interface WsRoute {
  /** Bytes sent right after the upgrade. */
  greet?: Buffer | string;
  /** Close right after the upgrade (a proxy that cannot reach its backend). */
  closeAtOnce?: boolean;
  /** Handle the socket yourself (e.g. an SSH server). */
  onSocket?: (ws: WebSocket, stream: Duplex) => void;
}

/** An HTTP server: `routes[path]` answers plain GETs (exact match on the path without query), `ws[path]` upgrades. */
export async function fakeServer(routes: Record<string, Handler>, ws: Record<string, WsRoute> = {}, server = 'nginx/1.22.1'): Promise<FakeServer> {
  const srv: Server = createServer((req, res) => {
    res.setHeader('server', server);
    const path = (req.url ?? '/').split('?')[0]!;
    const h = routes[path];
    if (h) return h(req, res);
    res.statusCode = 404;
    res.end('<html><head><title>404 Not Found</title></head></html>');
  });
  const wss = new WebSocketServer({ noServer: true });
  srv.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = ws[path];
    if (!route) {
      socket.end('HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (client) => {
      if (route.closeAtOnce) return client.close();
      if (route.greet !== undefined) client.send(Buffer.isBuffer(route.greet) ? route.greet : Buffer.from(route.greet));
      if (route.onSocket) route.onSocket(client, createWebSocketStream(client));
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

export const text = (status: number, body: string, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'text/html', ...headers });
  res.end(body);
};

export const redirect = (status: number, location: string): Handler => (_req, res) => {
  res.writeHead(status, { location });
  res.end();
};

export const json = (value: unknown): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = await fakeServer({});
  await s.close();
  return s.port;
}

/** An Exec answering from a table: key = argv joined by spaces (a function gets the argv and options). */
export function fakeExec(table: Record<string, { code?: number; stdout?: string; stderr?: string } | ((argv: string[], opts?: { user?: string; env?: Record<string, string> }) => { code?: number; stdout?: string; stderr?: string })>): Exec & { calls: string[][] } {
  const calls: string[][] = [];
  const fn = (async (argv: string[], opts?: { user?: string; env?: Record<string, string> }) => {
    calls.push(argv);
    const key = argv.join(' ');
    const hit = table[key] ?? Object.entries(table).find(([k]) => k.endsWith('*') && key.startsWith(k.slice(0, -1)))?.[1];
    if (!hit) return { code: 127, stdout: '', stderr: `fakeExec: no answer for ${key}` };
    const r = typeof hit === 'function' ? hit(argv, opts) : hit;
    return { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }) as Exec & { calls: string[][] };
  fn.calls = calls;
  return fn;
}

/** An Exec that runs argv on this machine (no shell unless argv asks for one), with extra env. */
export function localExec(env: Record<string, string> = {}): Exec {
  return (argv, opts) =>
    new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { env: { ...process.env, ...env, ...opts?.env }, timeout: opts?.timeoutMs ?? 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
        resolve({ code, stdout, stderr });
      });
    });
}
