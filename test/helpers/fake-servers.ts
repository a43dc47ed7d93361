/**
 * Stand-ins for what `idekube test` talks to, on 127.0.0.1: an HTTP server with a route table, WebSocket
 * endpoints that greet with given bytes (or hand the socket to an SSH server), and a local Exec that runs
 * commands on this machine (for the runtime's own scripts, with stubs on PATH).
 */
import { execFile, spawnSync } from 'node:child_process';
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

/** Decides before the route table (e.g. an access-token check): true when it answered itself. */
export interface Gate {
  http(req: IncomingMessage, res: ServerResponse): boolean;
  upgrade(req: IncomingMessage, socket: Duplex): boolean;
}

/** An HTTP server: `routes[path]` answers plain GETs (exact match on the path without query), `ws[path]` upgrades. */
export async function fakeServer(
  routes: Record<string, Handler>,
  ws: Record<string, WsRoute> = {},
  server = 'nginx/1.22.1',
  gate?: Gate,
): Promise<FakeServer> {
  const srv: Server = createServer((req, res) => {
    res.setHeader('server', server);
    if (gate?.http(req, res)) return;
    const path = (req.url ?? '/').split('?')[0]!;
    const h = routes[path];
    if (h) return h(req, res);
    res.statusCode = 404;
    res.end('<html><head><title>404 Not Found</title></head></html>');
  });
  const wss = new WebSocketServer({ noServer: true });
  srv.on('upgrade', (req, socket, head) => {
    if (gate?.upgrade(req, socket)) return;
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

export const text =
  (status: number, body: string, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html', ...headers });
    res.end(body);
  };

export const redirect =
  (status: number, location: string): Handler =>
  (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };

export const json =
  (value: unknown): Handler =>
  (_req, res) => {
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
export function fakeExec(
  table: Record<
    string,
    | { code?: number; stdout?: string; stderr?: string }
    | ((argv: string[], opts?: { user?: string; env?: Record<string, string> }) => { code?: number; stdout?: string; stderr?: string })
  >,
): Exec & { calls: string[][] } {
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
      execFile(
        argv[0]!,
        argv.slice(1),
        { env: { ...process.env, ...env, ...opts?.env }, timeout: opts?.timeoutMs ?? 20_000, encoding: 'utf8' },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
}

const TOKEN_PARAM = 'idekube-container-access-token';
const TOKEN_COOKIE = 'idekube_container_access_token';
const TOKEN_HEADER = 'x-idekube-container-access-token';

/** Ways the stand-in's token check can be wrong, each what a broken image would do. */
export interface AccessFlaws {
  /** Every request passes, token or not. */
  ignoreToken?: boolean;
  /** WebSocket upgrades pass without a token. */
  openUpgrades?: boolean;
  /** The header is not accepted. */
  noHeader?: boolean;
  /** The cookie is not accepted. */
  noCookie?: boolean;
  /** A token in the query is not turned into a cookie (the request is judged as if it had none). */
  noQuery?: boolean;
  /** The redirect keeps the token in the URL. */
  keepTokenInUrl?: boolean;
  /** The redirect is absolute, to another host. */
  absoluteLocation?: string;
  /** The cookie's attributes (default: Path=/; Max-Age=86400; HttpOnly; SameSite=Lax). */
  cookieAttrs?: string;
  /** The 401 page without the form. */
  noForm?: boolean;
  /** These paths ask for the token although declared open. */
  protect?: string[];
}

/** nginx's token check as the contract says: `open` paths pass; query → 302 + cookie; cookie or header pass; else 401 with the form. */
export function accessGate(token: string, open: string[] = ['/health'], flaws: AccessFlaws = {}): Gate {
  const form = flaws.noForm
    ? '<html><body>401 Authorization Required</body></html>'
    : `<html><head><title>Access token</title></head><body><form method="get"><input name="${TOKEN_PARAM}" type="password"></form></body></html>`;
  const cookieOf = (req: IncomingMessage) =>
    (req.headers.cookie ?? '')
      .split(/;\s*/)
      .map((c) => c.split('='))
      .find(([k]) => k === TOKEN_COOKIE)
      ?.slice(1)
      .join('=');
  /** 'pass', 401, or a redirect location. */
  const judge = (req: IncomingMessage, upgrade: boolean): 'pass' | 401 | { location: string; value: string } => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if ((open.includes(path) && !flaws.protect?.includes(path)) || flaws.ignoreToken || (upgrade && flaws.openUpgrades)) return 'pass';
    const q = url.searchParams.get(TOKEN_PARAM);
    if (q !== null && !flaws.noQuery && !upgrade) {
      if (q !== token) return 401;
      const rest = (req.url ?? '')
        .split('?')[1]!
        .split('&')
        .filter((kv) => flaws.keepTokenInUrl || !kv.startsWith(`${TOKEN_PARAM}=`))
        .join('&');
      return { location: `${flaws.absoluteLocation ?? ''}${path}${rest ? `?${rest}` : ''}`, value: q };
    }
    if (!flaws.noHeader && req.headers[TOKEN_HEADER] === token) return 'pass';
    if (!flaws.noCookie && cookieOf(req) === token) return 'pass';
    return 401;
  };
  return {
    http(req, res) {
      const v = judge(req, false);
      if (v === 'pass') return false;
      if (v === 401) {
        res.writeHead(401, { 'content-type': 'text/html' });
        res.end(form);
      } else {
        res.writeHead(302, {
          location: v.location,
          'set-cookie': `${TOKEN_COOKIE}=${v.value}; ${flaws.cookieAttrs ?? 'Path=/; Max-Age=86400; HttpOnly; SameSite=Lax'}`,
        });
        res.end();
      }
      return true;
    },
    upgrade(req, socket) {
      if (judge(req, true) === 'pass') return false;
      socket.end('HTTP/1.1 401 Unauthorized\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n');
      return true;
    },
  };
}

export interface FakeTtyd {
  /** Input is run (ttyd -W); without it keystrokes are ignored. */
  writable?: boolean;
  /** What `$(id -un)` / `$(id -u)` print. */
  user?: string;
  uid?: number;
  /** Print zsh's first-run menu first; it swallows keys until `q`. */
  zshMenu?: boolean;
  /** Never print anything. */
  silent?: boolean;
  /** Commands run before the echo (`touch ~/x`), recorded. */
  ran?: string[];
  /** Run every typed line with a real bash (as `bash -c`), its output sent back: what the quoting does for real. */
  bash?: boolean;
}

/** A ttyd stand-in: the tty subprotocol, the JSON init, input frames `0…` echoed like a terminal, and a tiny shell. */
export function ttydRoute(t: FakeTtyd = {}): WsRoute {
  return {
    onSocket: (ws) => {
      let started = false;
      let menu = Boolean(t.zshMenu);
      let line = '';
      const out = (s: string) => !t.silent && ws.send(Buffer.from(`0${s}`, 'utf8'));
      const prompt = () => out(`\x1b[?2004h${t.user ?? 'idekube'}@c:~$ `);
      const run = (cmd: string) => {
        if (t.bash) {
          const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 10_000 });
          return out(`${r.stdout.replace(/\n/g, '\r\n')}${r.stderr.replace(/\n/g, '\r\n')}`);
        }
        const m = /^(?:(.*); )?echo "idekube-test-"'(\w+)' "\$\((id -un|id -u)\)"$/.exec(cmd);
        if (!m) return out(`sh: command not found: ${cmd.split(' ')[0]}\r\n`);
        if (m[1]) t.ran?.push(m[1]);
        out(`idekube-test-${m[2]} ${m[3] === 'id -u' ? (t.uid ?? 1000) : (t.user ?? 'idekube')}\r\n`);
      };
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        if (!started) {
          started = text.startsWith('{') && 'columns' in (JSON.parse(text) as object);
          ws.send(Buffer.from('1bash', 'utf8')); // a title frame: not output
          if (menu)
            out(
              'This is the Z Shell configuration function for new users,\r\nzsh-newuser-install.\r\n--- Type one of the keys in parentheses --- ',
            );
          else prompt();
          return;
        }
        if (text[0] !== '0' || !t.writable) return;
        for (const ch of text.slice(1)) {
          if (menu) {
            if (ch === 'q') {
              menu = false;
              out('\r\n');
              prompt();
            }
            continue;
          }
          if (ch === '\x15') line = '';
          else if (ch === '\r') {
            out('\r\n');
            run(line);
            line = '';
            prompt();
          } else {
            line += ch;
            out(ch); // the terminal echoes what is typed
          }
        }
      });
    },
  };
}

/** supervisord's programs, with an Exec answering `supervisorctl status|stop|start` from that state. */
export function fakeSupervisor(programs: string[]): { running: Set<string>; exec: Exec; calls: string[][] } {
  const running = new Set(programs);
  const calls: string[][] = [];
  const exec: Exec = async (argv) => {
    calls.push(argv);
    if (argv[0] !== 'supervisorctl') return { code: 127, stdout: '', stderr: `no ${argv[0]}` };
    const [, action, ...names] = argv;
    if (action === 'status')
      return {
        code: 0,
        stdout: programs
          .map((p, i) => (running.has(p) ? `${p}  RUNNING   pid ${100 + i}, uptime 0:01:00` : `${p}  STOPPED   Not started`))
          .join('\n'),
        stderr: '',
      };
    for (const n of names) action === 'stop' ? running.delete(n) : running.add(n);
    return { code: 0, stdout: names.map((n) => `${n}: ${action === 'stop' ? 'stopped' : 'started'}`).join('\n'), stderr: '' };
  };
  return { running, exec, calls };
}
