/**
 * The checks of the runtime contract's front door, against stand-ins on 127.0.0.1: the landing page, /health (and
 * its answers with services stopped), the web terminal (a ttyd stand-in speaking its protocol), IPv6, the access
 * token (a gate that does what nginx's token check does, or one of the ways it can be wrong), the token kept
 * secret, and the pieces of the home-volume scenario. Each passes on what a working image shows and fails, saying
 * what is wrong, on what a broken one shows.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { checkAccessOpen, OPEN_LINE } from '../../src/verify/checks/access-open.js';
import {
  checkAuth401,
  checkAuthCookie,
  checkAuthHeader,
  checkAuthOpenRoutes,
  checkAuthQuery,
  checkAuthWebsocket,
  cookieProblems,
  makeToken,
  openRoutes,
  parseSetCookie,
  protectedPath,
  protectedSocket,
  redact,
} from '../../src/verify/checks/auth.js';
import { checkHealth, getHealth, healthProblems } from '../../src/verify/checks/health.js';
import { checkIpv6, IPV6_SCRIPT, parseIpv6 } from '../../src/verify/checks/ipv6.js';
import { checkLanding, listsRoute, toLandingPage, UNKNOWN_PATH } from '../../src/verify/checks/landing.js';
import { checkSecret, findToken } from '../../src/verify/checks/secret.js';
import { PROC_COMMAND } from '../../src/verify/exec.js';
import { checkTerminal, stripAnsi, terminalEval, terminalTarget } from '../../src/verify/checks/terminal.js';
import { checkHealth502, checkHealthDegraded, secondaryOf } from '../../src/verify/runtime/health-states.js';
import {
  hostKeyVerdict,
  notWalkedVerdict,
  owners,
  parseFingerprint,
  plant,
  remapIds,
  remapThroughTerminal,
} from '../../src/verify/runtime/uid-remap.js';
import { CheckFailed, CheckSkipped, type VerifyService } from '../../src/verify/types.js';
import {
  accessGate,
  closedPort,
  fakeExec,
  fakeServer,
  fakeSupervisor,
  localExec,
  text,
  ttydRoute,
  type AccessFlaws,
  type FakeServer,
  type Handler,
  type WsRoute,
} from '../helpers/fake-servers.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function serve(...args: Parameters<typeof fakeServer>): Promise<number> {
  const s = await fakeServer(...args);
  servers.push(s);
  return s.port;
}
async function fails(p: Promise<unknown>, re: RegExp, kind: typeof CheckFailed | typeof CheckSkipped = CheckFailed): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof kind, `a ${kind.name}, got ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

const ssh: VerifyService = {
  name: 'ssh',
  check: 'ssh',
  routes: [{ path: '/ssh', port: 2222, exact: true, websocket: true, open: true }],
  programs: ['sshd', 'ssh-ws'],
};
const terminal: VerifyService = {
  name: 'terminal',
  check: 'terminal',
  routes: [{ path: '/terminal/', port: 7681, keepPrefix: true, websocket: true }],
  programs: ['terminal'],
  main: true,
};
const vnc: VerifyService = {
  name: 'vnc',
  check: 'vnc',
  routes: [
    { path: '/vnc/', port: 6081 },
    { path: '/vnc/websockify', port: 6081, exact: true, websocket: true, upstream: '/websockify' },
  ],
  programs: ['vnc', 'novnc'],
};
const services = [ssh, terminal];

const html = (body: string): Handler => text(200, body);
const page =
  '<!doctype html><title>web/base</title><ul><li>WebSocket endpoint <code>/ssh</code></li><li><a href="./terminal/">/terminal/</a></li></ul>';
const toRoot: Handler = (_req, res) => res.writeHead(302, { location: '/' }).end();

describe('landing: / lists every route, unknown paths go there', () => {
  it('passes on the generated page and a relative 302 to /', async () => {
    const port = await serve({ '/': html(page), [UNKNOWN_PATH]: toRoot });
    assert.match(
      await checkLanding(port, services),
      /GET \/ → 200 text\/html listing all 2 route\(s\) \(\/ssh, \/terminal\/\); GET \/idekube-test-no-such-path → 302 \//,
    );
  });
  it('a route counts as listed by its path, escaped or not, or by a relative link', () => {
    assert.ok(listsRoute('<code>/a&#38;b/</code>', '/a&b/'));
    assert.ok(listsRoute('<a href="./coder/">code-server</a>', '/coder/'));
    assert.ok(!listsRoute('<a href="./coder/">code-server</a>', '/jupyter/'));
  });
  it('the redirect may be relative or to the same host and port, nowhere else', () => {
    assert.ok(toLandingPage('/', 80));
    assert.ok(toLandingPage('http://127.0.0.1:8080/', 8080));
    assert.ok(!toLandingPage('http://localhost/', 8080));
    assert.ok(!toLandingPage('//evil.example/', 8080));
    assert.ok(!toLandingPage('/vnc/', 8080));
  });
  it('fails when the page misses a route, naming it and its service', async () => {
    const port = await serve({ '/': html('<a href="./ssh">/ssh</a>'), [UNKNOWN_PATH]: toRoot });
    await fails(checkLanding(port, services), /the landing page \(GET \/, \d+ bytes\) does not list \/terminal\/ \(service terminal\)/);
  });
  it('fails when / answers 404', async () => {
    const port = await serve({ [UNKNOWN_PATH]: toRoot });
    await fails(checkLanding(port, services), /GET \/ answered 404 .*expected 200 with the landing page/);
  });
  it('fails when an unknown path is not sent to the landing page', async () => {
    const port = await serve({ '/': html(page) });
    await fails(checkLanding(port, services), /GET \/idekube-test-no-such-path answered 404 .*expected 302 to \//);
    const away = await serve({ '/': html(page), [UNKNOWN_PATH]: (_q, res) => res.writeHead(302, { location: 'http://127.0.0.1/' }).end() });
    await fails(checkLanding(away, services), /→ "http:\/\/127\.0\.0\.1\/", expected 302 to \//);
  });
});

/** A /health stand-in computing its answer from which programs run, like the health server does. */
function healthServer(
  state: { running: Set<string> },
  list: VerifyService[],
  opts: { main?: string; delayMs?: number; leave?: string[] } = {},
): Handler {
  return (_req: IncomingMessage, res: ServerResponse) => {
    const up = Object.fromEntries(
      list.filter((s) => !opts.leave?.includes(s.name)).map((s) => [s.name, s.programs.every((p) => state.running.has(p))]),
    );
    const main = opts.main ?? list.find((s) => s.main)?.name ?? list[0]!.name;
    const mainUp = up[main] === true;
    const doc = {
      status: mainUp && Object.values(up).every(Boolean) ? 'healthy' : 'degraded',
      branch: 'web/base',
      entry: '/',
      main,
      services: Object.fromEntries(Object.entries(up).map(([n, h]) => [n, { port: 1, path: '/', healthy: h }])),
    };
    setTimeout(() => res.writeHead(mainUp ? 200 : 502, { 'content-type': 'application/json' }).end(JSON.stringify(doc)), opts.delayMs ?? 0);
  };
}

describe('health: GET /health reports every service healthy, and the declared main', () => {
  it('passes when all are up', async () => {
    const port = await serve({ '/health': healthServer({ running: new Set(['sshd', 'ssh-ws', 'terminal']) }, services) });
    assert.match(await checkHealth(port, services, 'terminal', 2000), /GET \/health → 200 healthy: ssh, terminal up \(main: terminal\)/);
  });
  it('waits (bounded) for services that start slowly', async () => {
    const state = { running: new Set(['sshd', 'ssh-ws']) };
    let n = 0;
    const h = healthServer(state, services);
    const port = await serve({ '/health': (req, res) => (++n === 2 && state.running.add('terminal'), h(req, res)) });
    assert.match(await checkHealth(port, services, 'terminal', 5000), /200 healthy/);
  });
  it('fails naming a service that stays down, or one it does not list, or another main', async () => {
    const down = await serve({ '/health': healthServer({ running: new Set(['sshd', 'ssh-ws']) }, services) });
    await fails(
      checkHealth(down, services, 'terminal', 600),
      /did not report every service healthy within \d\.\d s: it answered 502 \{"status":"degraded","main":"terminal"\}, down: terminal/,
    );
    const partial = await serve({ '/health': healthServer({ running: new Set(['sshd', 'ssh-ws', 'terminal']) }, [ssh], { main: 'ssh' }) });
    await fails(
      checkHealth(partial, services, 'terminal', 600),
      /it lists no service terminal \(route \/terminal\/\); its main service is "ssh", the image declares terminal/,
    );
  });
  it('fails when nginx has no /health, or cannot reach the health server', async () => {
    const none = await serve({});
    await fails(
      checkHealth(none, services, 'terminal', 600),
      /404 "404 Not Found" \(nginx\/1\.22\.1\), not JSON: no \/health location in nginx/,
    );
    const gone = await serve({ '/health': text(502, '<title>502 Bad Gateway</title>') });
    await fails(checkHealth(gone, services, 'terminal', 600), /not JSON: nginx cannot reach the health server/);
  });
  it('problems are listed without a request', async () => {
    const port = await serve({ '/health': healthServer({ running: new Set(['sshd', 'ssh-ws', 'terminal']) }, services) });
    assert.deepEqual(healthProblems(await getHealth(port), services, 'terminal'), []);
  });
});

describe('health transitions: a secondary service down → 200 degraded; the main down → 502 within 2.5 s', () => {
  const setup = async (opts: Parameters<typeof healthServer>[2] = {}) => {
    const sup = fakeSupervisor(['nginx', 'health', 'sshd', 'ssh-ws', 'terminal']);
    const port = await serve({ '/health': healthServer(sup, services, opts) });
    return { sup, port };
  };
  it('the secondary: the first other service with a route and programs', () => {
    assert.equal(secondaryOf(services, terminal)?.name, 'ssh');
    assert.equal(secondaryOf([ssh], ssh), undefined);
    assert.equal(secondaryOf([{ ...ssh, programs: [] }, terminal], terminal), undefined);
  });
  it('passes on a health server that follows the services; the secondary is back before the main stops', async () => {
    const { sup, port } = await setup();
    assert.match(
      await checkHealthDegraded(port, sup.exec, ssh, terminal, 3000),
      /with service ssh's programs stopped \(sshd, ssh-ws\): GET \/health → 200 degraded, ssh healthy: false, terminal \(main\) healthy: true/,
    );
    assert.ok(!sup.running.has('sshd'));
    assert.match(
      await checkHealth502(port, sup.exec, terminal, ssh, 3000),
      /with the main service terminal's programs stopped \(terminal\): GET \/health → 502 degraded, terminal healthy: false, in \d+ ms/,
    );
    assert.ok(sup.running.has('sshd') && !sup.running.has('terminal'));
    assert.deepEqual(
      sup.calls.filter((c) => c[1] !== 'status'),
      [
        ['supervisorctl', 'stop', 'sshd', 'ssh-ws'],
        ['supervisorctl', 'start', 'sshd', 'ssh-ws'],
        ['supervisorctl', 'stop', 'terminal'],
      ],
    );
  });
  it('fails when /health takes the secondary for the main (502 instead of degraded)', async () => {
    const { sup, port } = await setup({ main: 'ssh' });
    await fails(
      checkHealthDegraded(port, sup.exec, ssh, terminal, 800),
      /with service ssh's programs stopped \(sshd, ssh-ws\), GET \/health answered 502 .* expected 200 degraded with ssh healthy: false: \/health treats ssh as vital \(its main service is "ssh", the image declares terminal\)/,
    );
  });
  it('fails when /health does not list the stopped service, or stays healthy when the main stops', async () => {
    const { sup, port } = await setup({ main: 'ssh', leave: ['terminal'] });
    await fails(
      checkHealth502(port, sup.exec, terminal, undefined, 800),
      /with the main service terminal's programs stopped \(terminal\), GET \/health answered 200 \{"status":"healthy","main":"ssh"\} for \d\.\d s, expected 502: \/health does not follow the main service \(its main service is "ssh"\)/,
    );
    const other = await setup({ leave: ['ssh'] });
    await fails(
      checkHealthDegraded(other.port, other.sup.exec, ssh, terminal, 800),
      /answered 200 \{"status":"healthy".*\/health does not notice ssh is down \(it does not list it\)/,
    );
  });
  it('fails when the 502 takes longer than 2.5 s', async () => {
    const { sup, port } = await setup({ delayMs: 2700 });
    await fails(
      checkHealth502(port, sup.exec, terminal, undefined, 1000),
      /answered 502 but took 27\d\d ms: it must answer within 2 s with a service down \(2500 ms allowed\)/,
    );
  });
  it('fails when supervisorctl cannot stop the programs', async () => {
    const stuck = fakeExec({
      'supervisorctl stop *': { code: 1, stdout: 'terminal: ERROR (abnormal termination)' },
      'supervisorctl status': { stdout: 'terminal  RUNNING   pid 7, uptime 0:00:09' },
    });
    await fails(
      checkHealth502(await closedPort(), stuck, terminal, undefined, 500),
      /supervisorctl stop did not stop terminal \(RUNNING\): terminal: ERROR/,
    );
  });
});

const TTY_PATH = '/terminal/ws';

describe("terminal: the shell behind /terminal/ws runs what is typed, as the image's user", () => {
  const pageOk = { '/terminal/': html('<title>ttyd - Terminal</title>') };
  const withTtyd = (t: Parameters<typeof ttydRoute>[0]) => serve(pageOk, { [TTY_PATH]: ttydRoute(t) });
  it("the WebSocket is the route's path + ws", () => {
    assert.equal(terminalTarget(terminal).socket, '/terminal/ws');
    assert.equal(terminalTarget({ ...terminal, routes: [{ path: '/shell', port: 1 }] }).socket, '/shell/ws');
  });
  it('strips escape sequences from the output', () => {
    assert.equal(stripAnsi('\x1b[?2004h\x1b]0;idekube@c: ~\x07idekube@c:~$ \x1b[01;32mok\x1b[0m'), 'idekube@c:~$ ok');
  });
  it('passes: typed `id -un` prints the user (the typed line, echoed, does not count)', async () => {
    const port = await withTtyd({ writable: true });
    assert.match(
      await checkTerminal(port, terminal, 'idekube', 8000),
      /GET \/terminal\/ → 200; WebSocket \/terminal\/ws \(tty\): typed `id -un` → idekube/,
    );
  });
  it("passes through zsh's first-run menu (it is left with q)", async () => {
    const port = await withTtyd({ writable: true, zshMenu: true });
    assert.match(await checkTerminal(port, terminal, 'idekube', 8000), /→ idekube/);
  });
  it('fails when ttyd is read-only (no -W): the marker never comes', async () => {
    const port = await withTtyd({ writable: false });
    await fails(
      checkTerminal(port, terminal, 'idekube', 2500),
      /WebSocket \/terminal\/ws opened but the shell never echoed the marker within 3 s: is ttyd started writable \(-W\)\? \(last output: ".*idekube@c:~\$"\)/,
    );
  });
  it('fails when the shell runs as someone else', async () => {
    const port = await withTtyd({ writable: true, user: 'root' });
    await fails(checkTerminal(port, terminal, 'idekube', 8000), /the terminal's shell runs as root, expected idekube/);
  });
  it('fails when no shell output comes, or the WebSocket is not there, or the page is not', async () => {
    const silent = await withTtyd({ writable: true, silent: true });
    await fails(checkTerminal(silent, terminal, 'idekube', 2000), /opened but no shell output came within 2 s/);
    const noWs = await serve(pageOk);
    await fails(checkTerminal(noWs, terminal, 'idekube', 3000), /GET \/terminal\/ws with Upgrade: websocket answered 404 instead of 101/);
    const down = await serve({ '/terminal/': text(502, '<title>502 Bad Gateway</title>') });
    await fails(
      checkTerminal(down, terminal, 'idekube', 3000),
      /GET \/terminal\/ answered 502 .*nginx cannot reach the terminal on 127\.0\.0\.1:7681/,
    );
  });
  it('runs a command first and reads another value (the uid)', async () => {
    const ran: string[] = [];
    const port = await withTtyd({ writable: true, uid: 2345, ran });
    const r = await terminalEval(port, TTY_PATH, 'id -u', { timeoutMs: 8000, before: 'touch ~/x' });
    assert.equal(r.value, '2345');
    assert.deepEqual(ran, ['touch ~/x']);
  });
});

describe('ipv6: nginx answers on [::1]:80 where the container has IPv6, skipped where it has not', () => {
  const exec = (stdout: string) => fakeExec({ 'sh -c *': { stdout } });
  it('parses what the script prints', () => {
    assert.deepEqual(parseIpv6('ipv6=none\n'), { addresses: 0, tool: 'none' });
    assert.deepEqual(parseIpv6('ipv6=3\ncode=200\n'), { addresses: 3, code: '200', tool: 'curl' });
    assert.deepEqual(parseIpv6('ipv6=3\nline=HTTP/1.1 502 Bad Gateway\n'), { addresses: 3, code: '502', tool: 'bash' });
    assert.deepEqual(parseIpv6('ipv6=3\nline=\n'), { addresses: 3, code: '000', tool: 'bash' });
  });
  it('the script runs with plain sh here and says whether this machine has IPv6', async () => {
    const r = await localExec()(['sh', '-c', IPV6_SCRIPT]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ipv6=(none|\d+)$/m);
  });
  it('passes on an answer from [::1]:80', async () => {
    assert.match(await checkIpv6(exec('ipv6=2\ncode=200\n')), /http:\/\/\[::1\]:80\/health → 200 \(curl\)/);
  });
  it('skipped without IPv6, saying nginx started without it', async () => {
    await fails(
      checkIpv6(exec('ipv6=none\n')),
      /^the container has no IPv6 \(\/proc\/net\/if_inet6 is empty\); nginx started without it$/,
      CheckSkipped,
    );
  });
  it('fails when nothing listens on [::]:80', async () => {
    await fails(
      checkIpv6(exec('ipv6=2\ncode=000\n')),
      /the container has IPv6 \(2 address\(es\)\) but nothing answers http:\/\/\[::1\]:80\/health \(curl: no connection\): nginx does not listen on \[::\]:80/,
    );
  });
});

describe('access open: without a token the log says every route is open', () => {
  it("passes on the runtime's line", async () => {
    assert.match(await checkAccessOpen(async () => `[idekube-init] runtime init: uid 0\n[idekube-init] ${OPEN_LINE}\n`), /logged at start/);
  });
  it('fails without it, quoting what the log says instead', async () => {
    await fails(
      checkAccessOpen(async () => '[idekube-init] access: no token\n'),
      /does not say "access: IDEKUBE_ACCESS_TOKEN is not set: every route is open"; it says: \[idekube-init\] access: no token/,
    );
    await fails(
      checkAccessOpen(async () => 'nothing\n'),
      /\(no access line at all\)/,
    );
  });
});

describe('the access token: protected routes, each way in, WebSockets, open routes', () => {
  const token = makeToken();
  const ok = (path: string): Handler => html(`<title>${path}</title>`);
  const routes = {
    '/terminal/': ok('terminal'),
    '/health': (_q: IncomingMessage, res: ServerResponse) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}'),
  };
  const sockets: Record<string, WsRoute> = {
    [TTY_PATH]: ttydRoute({ writable: true }),
    '/ssh': { greet: 'SSH-2.0-x\r\n' },
    '/ssh/': { greet: 'SSH-2.0-x\r\n' },
  };
  const gate = (flaws: AccessFlaws = {}) => serve(routes, sockets, 'nginx/1.22.1', accessGate(token, ['/ssh', '/ssh/', '/health'], flaws));
  const socket = protectedSocket(services)!;
  it('a token with every kind of character the runtime accepts; messages never show it', () => {
    assert.match(token, /^[A-Za-z0-9._:@-]+$/);
    for (const c of '._:@-') assert.ok(token.includes(c), c);
    assert.equal(redact(`x ${token} y ${encodeURIComponent(token)}`, token), 'x <token> y <token>');
  });
  it("what is probed: the main service's first protected route, the terminal's socket, the open routes", () => {
    assert.equal(protectedPath(services, terminal), '/terminal/');
    assert.equal(protectedPath([ssh], ssh), '/');
    assert.deepEqual(socket, { path: '/terminal/ws', protocols: ['tty'], what: 'the terminal of service terminal' });
    assert.deepEqual(protectedSocket([ssh, vnc])?.path, '/vnc/websockify');
    assert.equal(protectedSocket([ssh]), undefined);
    assert.deepEqual(
      openRoutes(services).map((r) => r.path),
      ['/ssh'],
    );
  });
  it('reads Set-Cookie and what it lacks', () => {
    const c = parseSetCookie(
      'other=1; Path=/, idekube_container_access_token=a:b@c; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax',
      'idekube_container_access_token',
    )!;
    assert.equal(c.value, 'a:b@c');
    assert.deepEqual(cookieProblems(c), []);
    assert.deepEqual(cookieProblems(parseSetCookie('idekube_container_access_token=x; Path=/x', 'idekube_container_access_token')!), [
      'Path=/',
      'Max-Age=86400',
      'HttpOnly',
      'SameSite=Lax',
    ]);
  });
  it('passes on a gate that does what the contract says', async () => {
    const port = await gate();
    assert.match(await checkAuth401(port, '/terminal/', token), /GET \/terminal\/ → 401 with the token form/);
    assert.match(
      await checkAuthQuery(port, '/terminal/', token),
      /→ 302 \/terminal\/\?keep=1 with Set-Cookie .*alone → 302 \/terminal\/; GET \/terminal\/\?keep=1 with the cookie → 200/,
    );
    assert.match(await checkAuthHeader(port, '/terminal/', token), /X-IDEKUBE-Container-Access-Token header → 200/);
    assert.match(await checkAuthCookie(port, '/terminal/', token), /idekube_container_access_token cookie → 200/);
    assert.match(
      await checkAuthWebsocket(port, socket, token, 5000),
      /WebSocket \/terminal\/ws \(the terminal of service terminal\): without a token → 401, with the cookie → 101/,
    );
    assert.match(
      await checkAuthOpenRoutes(port, openRoutes(services), 5000),
      /without a token: \/ssh → 101, \/ssh\/ → 101, \/health → 200/,
    );
  });
  it('auth 401 fails when protected routes answer without a token, or without the form', async () => {
    await fails(
      checkAuth401(await gate({ ignoreToken: true }), '/terminal/', token),
      /GET \/terminal\/ without a token answered 200 .*expected 401: the route is not protected by IDEKUBE_ACCESS_TOKEN/,
    );
    await fails(
      checkAuth401(await gate({ noForm: true }), '/terminal/', token),
      /answered 401 but without the token form \(nothing named idekube-container-access-token/,
    );
  });
  it('auth query fails on no redirect, a redirect that keeps the token or leaves the host, a cookie missing attributes', async () => {
    await fails(
      checkAuthQuery(await gate({ noQuery: true }), '/terminal/', token),
      /GET \/terminal\/\?idekube-container-access-token=<token>&keep=1 answered 401 .*expected 302 to \/terminal\/\?keep=1 that sets the cookie/,
    );
    await fails(
      checkAuthQuery(await gate({ keepTokenInUrl: true }), '/terminal/', token),
      /redirects to "\/terminal\/\?idekube-container-access-token=<token>&keep=1", expected \/terminal\/\?keep=1 \(relative, the token removed/,
    );
    await fails(
      checkAuthQuery(await gate({ absoluteLocation: 'http://elsewhere' }), '/terminal/', token),
      /redirects to "http:\/\/elsewhere\/terminal\/\?keep=1"/,
    );
    await fails(
      checkAuthQuery(await gate({ cookieAttrs: 'Path=/' }), '/terminal/', token),
      /sets idekube_container_access_token without Max-Age=86400, HttpOnly, SameSite=Lax/,
    );
  });
  it('auth header and auth cookie fail when that way in is refused', async () => {
    await fails(
      checkAuthHeader(await gate({ noHeader: true }), '/terminal/', token),
      /with the token in the X-IDEKUBE-Container-Access-Token header answered 401 .*the token is not accepted that way/,
    );
    await fails(
      checkAuthCookie(await gate({ noCookie: true }), '/terminal/', token),
      /with the token in the idekube_container_access_token cookie answered 401/,
    );
  });
  it('auth websocket fails when upgrades pass without a token, or the cookie is refused', async () => {
    await fails(
      checkAuthWebsocket(await gate({ openUpgrades: true }), socket, token, 5000),
      /the WebSocket upgrade on \/terminal\/ws \(the terminal of service terminal\) without a token answered 101: WebSocket routes are not protected/,
    );
    await fails(
      checkAuthWebsocket(await gate({ noCookie: true }), socket, token, 3000),
      /with the idekube_container_access_token cookie, GET \/terminal\/ws with Upgrade: websocket answered 401 instead of 101.*the cookie is not accepted on WebSocket upgrades/,
    );
  });
  it('auth open routes fails when /ssh or /health asks for the token', async () => {
    await fails(
      checkAuthOpenRoutes(await gate({ protect: ['/ssh'] }), openRoutes(services), 5000),
      /the WebSocket upgrade on \/ssh without a token answered 401: the route is declared open/,
    );
    await fails(
      checkAuthOpenRoutes(await gate({ protect: ['/health'] }), [], 5000),
      /GET \/health without a token answered 401: health probes \(Kubernetes\) carry no token/,
    );
  });
});

describe('auth secret: the token in no log and on no command line', () => {
  const token = makeToken();
  const cmdlines = (extra = '') =>
    `1\t0\t0\t/\ttini\t/usr/bin/tini -- supervisord -n\n42\t9\t0\t/\tnginx\tnginx: master process /usr/sbin/nginx -g daemon off; \n${extra}`;
  const exec = (procs: string, nginxLog = '') => fakeExec({ [PROC_COMMAND.join(' ')]: { stdout: procs }, 'sh -c *': { stdout: nginxLog } });
  it('finds the token as sent or percent-encoded', () => {
    assert.ok(findToken(`GET /?t=${encodeURIComponent(token)}`, token));
    assert.equal(findToken('nothing here', token), undefined);
  });
  it('passes when it is nowhere', async () => {
    assert.match(
      await checkSecret(token, async () => 'started\n', exec(cmdlines())),
      /not in the container log, not on any of 2 command lines, not in \/var\/log\/nginx/,
    );
  });
  it("fails when the log, a command line or nginx's log has it, never showing it", async () => {
    await fails(
      checkSecret(token, async () => `hook: the token is ${token}\n`, exec(cmdlines())),
      /the token appears in the container log: "hook: the token is <token>"/,
    );
    await fails(
      checkSecret(token, async () => '', exec(cmdlines(`77\t1\t0\t/\tsh\tsh -c sleep 1000; : leak ${token}\n`))),
      /the token is on the command line of pid 77: "sh -c sleep 1000; : leak <token>"/,
    );
    await fails(
      checkSecret(
        token,
        async () => '',
        exec(cmdlines(), `/var/log/nginx/access.log: "GET /?idekube-container-access-token=${token} HTTP/1.1" 302\n`),
      ),
      /the token appears in nginx's log: .*<token>.* \(a URL that carries it must not be logged\)/,
    );
  });
});

describe('home volume: uid remap through the terminal, not walked again, the host key kept', () => {
  const user = { uid: 1000, gid: 1000 };
  it("the new ids differ from the image's", () => {
    assert.deepEqual(remapIds(user), { uid: 2345, gid: 2345 });
    assert.deepEqual(remapIds({ uid: 2345, gid: 100 }), { uid: 2346, gid: 2345 });
  });
  it('reads fingerprints; the same key passes, another fails saying what users see', () => {
    assert.equal(parseFingerprint('256 SHA256:abcDEF+/1 root@c (ED25519)\n'), 'SHA256:abcDEF+/1');
    assert.match(hostKeyVerdict('SHA256:a', 'SHA256:a'), /presents the same ed25519 host key \(SHA256:a\)/);
    assert.throws(
      () => hostKeyVerdict('SHA256:a', 'SHA256:b'),
      /presents another ed25519 host key \(SHA256:b, was SHA256:a\): the host keys are not kept in the home/,
    );
  });
  it('owners of paths, and a planted file of the original uid (run here with sh in a scratch folder)', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/idekube-home-`);
    const me = { uid: process.getuid!(), gid: process.getgid!() };
    await plant(localExec(), dir, me);
    assert.deepEqual(await owners(localExec(), [`${dir}/idekube-test-planted`, `${dir}/none`]), [`${me.uid}:${me.gid}`, undefined]);
  });
  it('not walked: the planted file kept its owner and the log says so; else fails', () => {
    assert.match(
      notWalkedVerdict('1000:1000', '[idekube-init] home: /home/idekube already owned by uid 2345: not walked\n', '/home/idekube', user, {
        uid: 2345,
      }),
      /did not walk it: a file of uid 1000 kept its owner/,
    );
    assert.throws(
      () => notWalkedVerdict('2345:2345', 'not walked', '/home/idekube', user, { uid: 2345 }),
      /idekube-test-planted \(uid 1000, put there before\) belongs to 2345:2345: the start walked the home again/,
    );
    assert.throws(
      () => notWalkedVerdict('1000:1000', "chown of 1000's files", '/home/idekube', user, { uid: 2345 }),
      /its log does not say "not walked"/,
    );
  });
  it("through the terminal: the shell's uid, and who owns what it made and the home", async () => {
    const ran: string[] = [];
    const port = await serve({}, { [TTY_PATH]: ttydRoute({ writable: true, uid: 2345, ran }) });
    const stat = (out: string) => fakeExec({ 'sh -c *': { stdout: out } });
    assert.match(
      await remapThroughTerminal(port, terminal, stat('2345:2345\n2345:2345\n'), '/home/idekube', { uid: 2345, gid: 2345 }, 8000),
      /the terminal's shell runs as uid 2345; ~\/idekube-uid-probe and \/home\/idekube belong to 2345:2345/,
    );
    assert.deepEqual(ran, ['touch ~/idekube-uid-probe']);
    await fails(
      remapThroughTerminal(port, terminal, stat('1000:1000\n2345:2345\n'), '/home/idekube', { uid: 2345, gid: 2345 }, 8000),
      /~\/idekube-uid-probe made in the terminal belongs to 1000:1000, expected 2345:2345/,
    );
    const old = await serve({}, { [TTY_PATH]: ttydRoute({ writable: true, uid: 1000 }) });
    await fails(
      remapThroughTerminal(old, terminal, stat(''), '/home/idekube', { uid: 2345, gid: 2345 }, 8000),
      /with IDEKUBE_USER_UID=2345 the terminal's shell runs as uid 1000/,
    );
  });
});
