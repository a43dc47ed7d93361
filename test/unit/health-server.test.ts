/**
 * The /health server every image runs (artifacts/runtime/lib/health-server.py), run here with this machine's python3
 * (IDEKUBE_TEST_PYTHON names another interpreter, e.g. a 3.8 to check the oldest image's) against stand-in services
 * on 127.0.0.1: an HTTP one, a WebSocket-only one (404 to a GET, 101 to an upgrade), one that accepts and never
 * answers, one that closes at once, and a port nothing listens on.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { REPO_ROOT } from '../helpers/project.js';

const SCRIPT = join(REPO_ROOT, 'artifacts/runtime/lib/health-server.py');
const PYTHON = process.env.IDEKUBE_TEST_PYTHON || 'python3';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  ms: number;
}

function ask(port: number, path = '/health', method = 'GET'): Promise<Answer> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, ms: Date.now() - start }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

const body = (a: Answer): unknown => JSON.parse(a.text);

interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
}

/** Starts the server on a free port (--port 0; it prints the one it got) and waits, at most 10 s, for its start line. */
function startServer(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(PYTHON, [SCRIPT, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`health server did not start within 10 s; stdout: ${out}; stderr: ${err}`));
    }, 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`health server exited (${code}) before listening; stderr: ${err}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^idekube-health: listening on 127\.0\.0\.1:(\d+), config (.*)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stdout: () => out, stderr: () => err });
      }
    });
  });
}

function stopServer(r: Running | undefined): void {
  if (r && r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
}

const listen = (srv: Server | ReturnType<typeof createNetServer>): Promise<number> =>
  new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)));

describe('health server (health-server.py)', () => {
  let dir: string;
  let config: string;
  let health: Running;
  const sockets = new Set<Socket>();
  const accepted = { silent: 0, slammer: 0 };
  // 200 at / and /inner/, 302 at /app/, 404 elsewhere; upgrades refused with a 404
  const web = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/inner/') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else if (path === '/app/') res.writeHead(302, { location: '/app/login' }).end();
    else res.writeHead(404).end('not found');
  });
  web.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
  // a WebSocket-only endpoint: 404 to a plain GET, 101 to an upgrade
  const wsOnly = createServer((_req, res) => res.writeHead(404).end('use a WebSocket'));
  const wss = new WebSocketServer({ server: wsOnly });
  // accepts connections and never answers
  const silent = createNetServer((s) => {
    accepted.silent++;
    sockets.add(s);
    s.on('error', () => {});
  });
  // accepts connections and closes them at once, without an answer
  const slammer = createNetServer((s) => {
    accepted.slammer++;
    s.destroy();
  });
  const ports = { web: 0, ws: 0, silent: 0, slammer: 0, closed: 0 };

  const writeConfig = (value: unknown): void => writeFileSync(config, typeof value === 'string' ? value : JSON.stringify(value));
  const svc = (port: number, path: string, probePath?: string) => (probePath === undefined ? { port, path } : { port, path, probePath });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idekube-health-'));
    config = join(dir, 'health.json');
    ports.web = await listen(web);
    ports.ws = await listen(wsOnly);
    ports.silent = await listen(silent);
    ports.slammer = await listen(slammer);
    const probe = createNetServer();
    ports.closed = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    health = await startServer(['--config', config]);
  });

  after(async () => {
    stopServer(health);
    for (const s of sockets) s.destroy();
    for (const c of wss.clients) c.terminate();
    web.closeAllConnections();
    wsOnly.closeAllConnections();
    await Promise.all([web, wsOnly, silent, slammer].map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('all services up: 200 healthy, JSON, not cached, services in the config order', async () => {
    writeConfig({
      branch: 'jupyter',
      entry: '/jupyter/',
      main: 'jupyter',
      services: {
        jupyter: svc(ports.web, '/jupyter/', '/app/'),
        terminal: svc(ports.web, '/terminal/'),
        vnc: svc(ports.ws, '/vnc/websockify', '/ws'),
      },
    });
    const a = await ask(health.port);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.equal(a.headers['cache-control'], 'no-store');
    assert.deepEqual(body(a), {
      status: 'healthy',
      branch: 'jupyter',
      entry: '/jupyter/',
      main: 'jupyter',
      services: {
        jupyter: { port: ports.web, path: '/jupyter/', healthy: true },
        terminal: { port: ports.web, path: '/terminal/', healthy: true },
        vnc: { port: ports.ws, path: '/vnc/websockify', healthy: true },
      },
    });
    assert.deepEqual(Object.keys((body(a) as { services: object }).services), ['jupyter', 'terminal', 'vnc']);
  });

  it('an HTTP service answering 200 at its probePath is up; the probe asks probePath (default /), not path', async () => {
    writeConfig({
      branch: 'b',
      entry: '/',
      main: 'inner',
      services: { inner: svc(ports.web, '/x/', '/inner/'), plain: svc(ports.web, '/inner/') },
    });
    const a = await ask(health.port);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(body(a), {
      status: 'healthy',
      branch: 'b',
      entry: '/',
      main: 'inner',
      services: { inner: { port: ports.web, path: '/x/', healthy: true }, plain: { port: ports.web, path: '/inner/', healthy: true } },
    });
    // / answers 200 but /nowhere/ 404 (and refuses the upgrade): down
    writeConfig({
      branch: 'b',
      entry: '/',
      main: 'inner',
      services: { inner: svc(ports.web, '/x/', '/inner/'), other: svc(ports.web, '/', '/nowhere/') },
    });
    const b = await ask(health.port);
    assert.equal(b.status, 200, b.text);
    assert.deepEqual(body(b), {
      status: 'degraded',
      branch: 'b',
      entry: '/',
      main: 'inner',
      services: { inner: { port: ports.web, path: '/x/', healthy: true }, other: { port: ports.web, path: '/', healthy: false } },
    });
  });

  it('a service answering 404 to a GET but 101 to a WebSocket handshake is up', async () => {
    writeConfig({ branch: 'b', entry: '/', main: 'ws', services: { ws: svc(ports.ws, '/ssh', '/ssh') } });
    const a = await ask(health.port);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(body(a), {
      status: 'healthy',
      branch: 'b',
      entry: '/',
      main: 'ws',
      services: { ws: { port: ports.ws, path: '/ssh', healthy: true } },
    });
  });

  it('a secondary service on a closed port: 200 degraded, that service healthy:false', async () => {
    writeConfig({ branch: 'b', entry: '/', main: 'web', services: { web: svc(ports.web, '/'), gone: svc(ports.closed, '/gone/') } });
    const a = await ask(health.port);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(body(a), {
      status: 'degraded',
      branch: 'b',
      entry: '/',
      main: 'web',
      services: { web: { port: ports.web, path: '/', healthy: true }, gone: { port: ports.closed, path: '/gone/', healthy: false } },
    });
  });

  it('the main service on a closed port: 502 degraded', async () => {
    writeConfig({ branch: 'b', entry: '/', main: 'gone', services: { web: svc(ports.web, '/'), gone: svc(ports.closed, '/gone/') } });
    const a = await ask(health.port);
    assert.equal(a.status, 502, a.text);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.deepEqual(body(a), {
      status: 'degraded',
      branch: 'b',
      entry: '/',
      main: 'gone',
      services: { web: { port: ports.web, path: '/', healthy: true }, gone: { port: ports.closed, path: '/gone/', healthy: false } },
    });
  });

  it('a service that accepts and never answers, and one that closes at once: down, and the answer comes within 2 s', async () => {
    writeConfig({
      branch: 'b',
      entry: '/',
      main: 'web',
      services: {
        web: svc(ports.web, '/'),
        silent: svc(ports.silent, '/s/'),
        slammer: svc(ports.slammer, '/c/'),
        silent2: svc(ports.silent, '/t/'),
      },
    });
    accepted.silent = accepted.slammer = 0;
    const a = await ask(health.port);
    // a bound (2 s promised, slack for a loaded machine), not a benchmark
    assert.ok(a.ms < 2500, `answered after ${a.ms} ms`);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(body(a), {
      status: 'degraded',
      branch: 'b',
      entry: '/',
      main: 'web',
      services: {
        web: { port: ports.web, path: '/', healthy: true },
        silent: { port: ports.silent, path: '/s/', healthy: false },
        slammer: { port: ports.slammer, path: '/c/', healthy: false },
        silent2: { port: ports.silent, path: '/t/', healthy: false },
      },
    });
    // a probe that timed out is not followed by a WebSocket try (one connection each); a closed one is (two)
    assert.deepEqual(accepted, { silent: 2, slammer: 2 });
  });

  it('reads the config on every request', async () => {
    writeConfig({ branch: 'one', entry: '/', main: 'web', services: { web: svc(ports.web, '/') } });
    const a = await ask(health.port);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(body(a), {
      status: 'healthy',
      branch: 'one',
      entry: '/',
      main: 'web',
      services: { web: { port: ports.web, path: '/', healthy: true } },
    });
    writeConfig({ branch: 'two', entry: '/', main: 'gone', services: { gone: svc(ports.closed, '/') } });
    const b = await ask(health.port);
    assert.equal(b.status, 502, b.text);
    assert.deepEqual(body(b), {
      status: 'degraded',
      branch: 'two',
      entry: '/',
      main: 'gone',
      services: { gone: { port: ports.closed, path: '/', healthy: false } },
    });
  });

  it('a missing config: 500 naming the file', async () => {
    rmSync(config, { force: true });
    const a = await ask(health.port);
    assert.equal(a.status, 500, a.text);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.deepEqual(body(a), { status: 'error', error: `${config}: not found` });
  });

  it('a config that is not JSON: 500 naming the file', async () => {
    writeConfig('{"branch": "b", "services": {');
    const a = await ask(health.port);
    assert.equal(a.status, 500, a.text);
    const b = body(a) as { status: string; error: string };
    assert.equal(b.status, 'error');
    assert.ok(b.error.startsWith(`${config}: not valid JSON`), b.error);
    assert.deepEqual(Object.keys(b), ['status', 'error']);
  });

  it('a config with wrong types: 500 saying which field', async () => {
    const base = { branch: 'b', entry: '/', main: 'web' };
    const cases: [unknown, string][] = [
      [[1, 2], 'the top level must be a JSON object'],
      [{ ...base, services: [] }, '"services" must be an object'],
      [{ ...base, main: 3, services: {} }, '"main" must be a string (or null: no main service)'],
      [{ ...base, branch: 5, services: {} }, '"branch" must be a string'],
      [{ ...base, services: { web: 'x' } }, 'services.web must be an object'],
      [{ ...base, services: { web: { port: '80', path: '/' } } }, 'services.web.port must be a whole number from 1 to 65535'],
      [{ ...base, services: { web: { port: true, path: '/' } } }, 'services.web.port must be a whole number from 1 to 65535'],
      [{ ...base, services: { web: { port: 70000, path: '/' } } }, 'services.web.port must be a whole number from 1 to 65535'],
      [{ ...base, services: { web: { port: 80.5, path: '/' } } }, 'services.web.port must be a whole number from 1 to 65535'],
      [{ ...base, services: { web: { port: 80 } } }, 'services.web.path must be a string'],
      [
        { ...base, services: { web: { port: 80, path: '/', probePath: 'x' } } },
        'services.web.probePath must be a path starting with / (printable ASCII, no spaces)',
      ],
      [
        { ...base, services: { web: { port: 80, path: '/', probePath: '/a b' } } },
        'services.web.probePath must be a path starting with / (printable ASCII, no spaces)',
      ],
    ];
    for (const [value, why] of cases) {
      writeConfig(value);
      const a = await ask(health.port);
      assert.equal(a.status, 500, `${JSON.stringify(value)}: ${a.text}`);
      assert.deepEqual(body(a), { status: 'error', error: `${config}: ${why}` });
    }
  });

  it('a main that names no configured service counts as down: 502', async () => {
    writeConfig({ branch: 'b', entry: '/', main: 'nope', services: { web: svc(ports.web, '/') } });
    const a = await ask(health.port);
    assert.equal(a.status, 502, a.text);
    assert.deepEqual(body(a), {
      status: 'degraded',
      branch: 'b',
      entry: '/',
      main: 'nope',
      services: { web: { port: ports.web, path: '/', healthy: true } },
    });
  });

  it('main null (a flavor without a routed main service): never 502, a down service makes it degraded', async () => {
    writeConfig({ branch: 'b', entry: '/', main: null, services: { web: svc(ports.web, '/'), gone: svc(ports.closed, '/') } });
    const a = await ask(health.port);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(body(a), {
      status: 'degraded',
      branch: 'b',
      entry: '/',
      main: null,
      services: { web: { port: ports.web, path: '/', healthy: true }, gone: { port: ports.closed, path: '/', healthy: false } },
    });
  });

  it('/health, /health?query and / answer the same; HEAD the same without a body', async () => {
    writeConfig({ branch: 'b', entry: '/', main: 'web', services: { web: svc(ports.web, '/'), gone: svc(ports.closed, '/g/') } });
    const h = await ask(health.port, '/health');
    const root = await ask(health.port, '/');
    const q = await ask(health.port, '/health?ts=1');
    assert.equal(h.status, 200, h.text);
    assert.deepEqual([root.status, root.text], [h.status, h.text]);
    assert.deepEqual([q.status, q.text], [h.status, h.text]);
    const head = await ask(health.port, '/health', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers['content-type'], 'application/json');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(h.text)));
    writeConfig({ branch: 'b', entry: '/', main: 'gone', services: { gone: svc(ports.closed, '/g/') } });
    assert.equal((await ask(health.port, '/', 'HEAD')).status, 502);
  });

  it('any other path: 404', async () => {
    for (const path of ['/nope', '/health/x', '/healthz', '/index.html']) {
      const a = await ask(health.port, path);
      assert.equal(a.status, 404, path);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.equal((body(a) as { status: string }).status, 'error');
    }
    assert.equal((await ask(health.port, '/nope', 'HEAD')).status, 404);
  });

  it('takes its config from IDEKUBE_HEALTH_CONFIG, logs only its start line, and exits 0 on SIGTERM within 5 s', async () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ branch: 'env', entry: '/', main: 'web', services: { web: svc(ports.web, '/') } }));
    let r: Running | undefined;
    try {
      r = await startServer([], { IDEKUBE_HEALTH_CONFIG: other });
      assert.equal(r.stdout(), `idekube-health: listening on 127.0.0.1:${r.port}, config ${other}\n`);
      const a = await ask(r.port);
      assert.equal(a.status, 200, a.text);
      assert.equal((body(a) as { branch: string }).branch, 'env');
      await ask(r.port, '/nope');
      const child = r.child;
      const exited = new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no exit within 5 s of SIGTERM')), 5_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, r.stderr());
      // no access log lines: only the start line, nothing on stderr
      assert.equal(r.stdout(), `idekube-health: listening on 127.0.0.1:${r.port}, config ${other}\n`);
      assert.equal(r.stderr(), '');
    } finally {
      stopServer(r);
    }
  });
});
