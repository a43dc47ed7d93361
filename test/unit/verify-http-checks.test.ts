/**
 * The checks that talk HTTP/WebSocket through nginx, against stand-in servers on 127.0.0.1: each passes on a
 * working service and fails, saying what is wrong, when the thing it checks is broken.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Route } from '../../src/config/model.js';
import { checkCoder } from '../../src/verify/checks/coder.js';
import { checkRoute } from '../../src/verify/checks/http.js';
import { checkJupyter } from '../../src/verify/checks/jupyter.js';
import { checkNginx } from '../../src/verify/checks/nginx.js';
import { checkRedirect, redirectingRoutes } from '../../src/verify/checks/redirect.js';
import { checkSshBanner, checkSshLogin, generateKeyPair, sshPaths } from '../../src/verify/checks/ssh.js';
import { checkVnc } from '../../src/verify/checks/vnc.js';
import { CheckFailed, type VerifyService } from '../../src/verify/types.js';
import { closedPort, fakeServer, json, redirect, text, type FakeServer } from '../helpers/fake-servers.js';

const servers: FakeServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function serve(...args: Parameters<typeof fakeServer>): Promise<number> {
  const s = await fakeServer(...args);
  servers.push(s);
  return s.port;
}
async function fails(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof CheckFailed, `a CheckFailed, got ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

const svc = (check: VerifyService['check'], routes: Route[], name: string = check): VerifyService => ({
  name,
  check,
  routes,
  programs: [],
});
const notFound = text(404, '<html><head><title>404 Not Found</title></head></html>');

describe('nginx: port 80 answers and / is the landing page', () => {
  const landing = text(200, '<!doctype html><title>web/base</title>');
  it('passes on nginx answering 200 text/html at /', async () => {
    const port = await serve({ '/': landing });
    assert.match(await checkNginx(port), /GET \/ → 200 text\/html \(nginx\/1\.22\.1\)/);
  });
  it('fails when / answers 404 (no landing page), saying so', async () => {
    const port = await serve({ '/': notFound });
    await fails(
      checkNginx(port),
      /GET \/ answered 404 "404 Not Found" \(nginx\/1\.22\.1\), expected 200 with the landing page \(text\/html\): no landing page/,
    );
  });
  it('fails when / is not HTML', async () => {
    const port = await serve({ '/': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('served at the root') });
    await fails(checkNginx(port), /GET \/ answered 200 with Content-Type text\/plain, expected text\/html/);
  });
  it('fails when / asks for a token that was not set', async () => {
    const port = await serve({ '/': text(401, '<title>401</title>') });
    await fails(checkNginx(port), /answered 401 .*it asks for the access token, yet none was set/);
  });
  it('fails when another server than nginx answers', async () => {
    const port = await serve({ '/': landing }, {}, 'SimpleHTTP/0.6 Python/3.11');
    await fails(checkNginx(port), /not from nginx \(Server: SimpleHTTP/);
  });
  it('fails when nothing listens on the port', async () => {
    await fails(checkNginx(await closedPort(), 2000), /nothing answers HTTP on port 80 .*is nginx running and listening on port 80\?/);
  });
});

describe("redirects: a prefix route's slash-less path redirects to its slash form", () => {
  it('only prefix routes ending in / get a redirect', () => {
    const routes: Route[] = [
      { path: '/vnc/', port: 1 },
      { path: '/vnc/websockify', port: 1, exact: true },
      { path: '/ssh', port: 2, exact: true },
      { path: '/', port: 3 },
    ];
    assert.deepEqual(
      redirectingRoutes(routes).map((r) => r.path),
      ['/vnc/'],
    );
  });
  it('passes on a relative 301', async () => {
    const port = await serve({ '/vnc': redirect(301, '/vnc/') });
    assert.match(await checkRedirect(port, { path: '/vnc/', port: 6081 }), /GET \/vnc → 301 \/vnc\//);
  });
  it('fails when the slash-less path is not redirected', async () => {
    const port = await serve({});
    await fails(checkRedirect(port, { path: '/coder/', port: 3000 }), /GET \/coder answered 404 .*expected a redirect to \/coder\//);
  });
  it('fails when it redirects elsewhere', async () => {
    const port = await serve({ '/coder': redirect(302, '/login') });
    await fails(checkRedirect(port, { path: '/coder/', port: 3000 }), /redirects to "\/login", expected \/coder\//);
  });
  it('fails on an absolute redirect that drops the port the client used (nginx without absolute_redirect off)', async () => {
    const port = await serve({ '/web': redirect(301, 'http://127.0.0.1/web/') });
    await fails(
      checkRedirect(port, { path: '/web/', port: 8080 }),
      /absolute URL http:\/\/127\.0\.0\.1\/web\/, which leaves the host and port/,
    );
  });
});

describe('http: each route of the service answers through nginx', () => {
  it('passes on a page', async () => {
    const port = await serve({ '/web/': text(200, 'hello') });
    assert.match(await checkRoute(port, { path: '/web/', port: 8080 }), /GET \/web\/ → 200/);
  });
  it('fails on 502 and names the upstream port', async () => {
    const port = await serve({ '/web/': text(502, '<title>502 Bad Gateway</title>') });
    await fails(
      checkRoute(port, { path: '/web/', port: 8081 }),
      /502 "502 Bad Gateway".*nginx cannot reach the service on 127\.0\.0\.1:8081/,
    );
  });
  it('an exact WebSocket route must upgrade', async () => {
    const port = await serve({}, { '/events': { greet: 'x' } });
    assert.match(await checkRoute(port, { path: '/events', port: 9000, exact: true, websocket: true }), /101/);
    await fails(checkRoute(port, { path: '/other', port: 9000, exact: true, websocket: true }), /answered 404 instead of 101/);
  });
});

describe('coder: code-server page and WebSocket upgrade', () => {
  const coder = svc('coder', [{ path: '/coder/', port: 3000, websocket: true }]);
  const page = text(200, '<html><head><title>code-server</title></head><body class="monaco-workbench"></body></html>');
  it('passes on the page and a 101', async () => {
    const port = await serve({ '/coder/': page }, { '/coder/': {} });
    assert.match(await checkCoder(port, coder), /code-server page.*WebSocket upgrade on \/coder\/ → 101/);
  });
  it("follows code-server's relative redirect to ?folder=", async () => {
    const port = await serve(
      { '/coder/': (req, res) => (req.url === '/coder/' ? redirect(302, './?folder=/home/idekube')(req, res) : page(req, res)) },
      { '/coder/': {} },
    );
    assert.match(await checkCoder(port, coder), /GET \/coder\/\?folder=\/home\/idekube → 200/);
  });
  it('fails when the WebSocket upgrade does not get through', async () => {
    const port = await serve({ '/coder/': page });
    await fails(checkCoder(port, coder), /answered 404 instead of 101.*upgrade headers of \/coder\//);
  });
  it('fails when the page is not code-server', async () => {
    const port = await serve({ '/coder/': text(200, '<title>It works</title>') }, { '/coder/': {} });
    await fails(checkCoder(port, coder), /not code-server's/);
  });
  it('fails on 502', async () => {
    const port = await serve({ '/coder/': text(502, 'bad gateway') });
    await fails(checkCoder(port, coder), /nginx cannot reach code-server on 127\.0\.0\.1:3000/);
  });
});

describe('jupyter: the page and the REST API under the prefix', () => {
  const jup = svc('jupyter', [{ path: '/jupyter/', port: 8888, keepPrefix: true, websocket: true }]);
  const good = {
    '/jupyter/': redirect(302, '/jupyter/tree'),
    '/jupyter/tree': text(200, '<title>Home Page - Select or create a notebook</title><script src="/jupyter/static/jupyter.js"></script>'),
    '/jupyter/api/status': json({ connections: 0, kernels: 0, last_activity: 'x', started: 'y' }),
    '/jupyter/api': json({ version: '6.4.12' }),
  };
  it('passes on page + api/status', async () => {
    const port = await serve(good);
    assert.match(await checkJupyter(port, jup), /GET \/jupyter\/tree → 200; \/jupyter\/api\/status → 200 JSON \(Jupyter 6\.4\.12\)/);
  });
  it('fails when the API is not reachable', async () => {
    const port = await serve({ ...good, '/jupyter/api/status': text(404, 'nope') });
    await fails(checkJupyter(port, jup), /GET \/jupyter\/api\/status answered 404.*Jupyter's API is not reachable under \/jupyter\//);
  });
  it('fails when the API does not answer JSON', async () => {
    const port = await serve({ ...good, '/jupyter/api/status': text(200, '<html>login</html>') });
    await fails(checkJupyter(port, jup), /not with JSON/);
  });
  it("fails when Jupyter's base URL is not the prefix", async () => {
    const port = await serve({ ...good, '/jupyter/': redirect(302, '/tree'), '/tree': text(200, 'Jupyter') });
    await fails(checkJupyter(port, jup), /ended at \/tree, outside \/jupyter\/: Jupyter's base URL is not \/jupyter\//);
  });
});

describe('vnc: noVNC client and the RFB greeting through the WebSocket', () => {
  const vnc = svc('vnc', [
    { path: '/vnc/', port: 6081 },
    { path: '/vnc/websockify', port: 6081, exact: true, websocket: true, upstream: '/websockify' },
  ]);
  const pages = { '/vnc/': text(200, '<script>location.replace("vnc.html")</script>'), '/vnc/vnc.html': text(200, '<title>noVNC</title>') };
  it('passes on the client page and RFB 003.008', async () => {
    const port = await serve(pages, { '/vnc/websockify': { greet: 'RFB 003.008\n' } });
    assert.match(await checkVnc(port, vnc), /noVNC client; \/vnc\/websockify → 101( \(binary\))?, greeting "RFB 003\.008"/);
  });
  it('fails when the proxy cannot reach the VNC server (closes at once)', async () => {
    const port = await serve(pages, { '/vnc/websockify': { closeAtOnce: true } });
    await fails(checkVnc(port, vnc), /opened but closed before the RFB greeting: the proxy could not reach the VNC server/);
  });
  it('fails when something else than a VNC server speaks', async () => {
    const port = await serve(pages, { '/vnc/websockify': { greet: 'SSH-2.0-OpenSSH_9.2\r\n' } });
    await fails(
      checkVnc(port, vnc),
      /carried "SSH-2\.0-OpenSSH\\\\r\\\\n" instead of the RFB greeting|instead of the RFB greeting "RFB 003\.00x"/,
    );
  });
  it('fails when the WebSocket route does not upgrade', async () => {
    const port = await serve(pages);
    await fails(checkVnc(port, vnc), /GET \/vnc\/websockify with Upgrade: websocket answered 404 instead of 101/);
  });
  it('fails when the noVNC client is not served', async () => {
    const port = await serve({ '/vnc/': text(200, 'x') }, { '/vnc/websockify': { greet: 'RFB 003.008\n' } });
    await fails(checkVnc(port, vnc), /GET \/vnc\/vnc\.html answered 404.*expected the noVNC client/);
  });
});

describe('ssh: the banner through /ssh and /ssh/, and a full login', () => {
  const ssh = svc('ssh', [{ path: '/ssh', port: 2222, exact: true, websocket: true }]);
  it('an exact route is checked with and without the trailing slash', () => {
    assert.deepEqual(sshPaths({ path: '/ssh', port: 1, exact: true }), ['/ssh', '/ssh/']);
    assert.deepEqual(sshPaths({ path: '/ssh/', port: 1 }), ['/ssh/']);
  });
  it('passes when both paths greet with SSH-2.0-', async () => {
    const port = await serve({}, { '/ssh': { greet: 'SSH-2.0-OpenSSH_9.2p1\r\n' }, '/ssh/': { greet: 'SSH-2.0-OpenSSH_9.2p1\r\n' } });
    assert.match(await checkSshBanner(port, ssh), /\/ssh and \/ssh\/ → 101, first bytes "SSH-2\.0-"/);
  });
  it('fails when sshd is not running behind the bridge (the WebSocket closes)', async () => {
    const port = await serve({}, { '/ssh': { closeAtOnce: true }, '/ssh/': { closeAtOnce: true } });
    await fails(
      checkSshBanner(port, ssh),
      /opened but closed before the SSH banner: the bridge could not reach sshd \(is sshd running\?\)/,
    );
  });
  it('fails when the trailing-slash form users configure is missing', async () => {
    const port = await serve({}, { '/ssh': { greet: 'SSH-2.0-x\r\n' } });
    await fails(checkSshBanner(port, ssh), /GET \/ssh\/ with Upgrade: websocket answered 404/);
  });
  it('fails on other bytes than an SSH banner', async () => {
    const port = await serve({}, { '/ssh': { greet: 'RFB 003.008\n' }, '/ssh/': { greet: 'RFB 003.008\n' } });
    await fails(checkSshBanner(port, ssh), /instead of an SSH-2\.0- banner/);
  });

  describe('login through the WebSocket (an ssh2 server as sshd)', async () => {
    const user = await generateKeyPair('user');
    const stranger = await generateKeyPair('stranger');
    const { Server, utils } = ((await import('ssh2')) as unknown as { default: typeof import('ssh2') }).default;
    const hostKey = (await generateKeyPair('host')).privateKey;
    const allowed = utils.parseKey(user.publicKey) as import('ssh2').ParsedKey;
    const sshd = (who: string) =>
      new Server({ hostKeys: [hostKey] }, (client) => {
        client.on('authentication', (ctx) => {
          if (ctx.method === 'publickey' && ctx.username === 'idekube' && ctx.key.data.equals(allowed.getPublicSSH() as Buffer)) {
            if (!ctx.signature) return ctx.accept();
            return allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject();
          }
          ctx.reject(['publickey']);
        });
        client.on('ready', () =>
          client.on('session', (accept) =>
            accept().on('exec', (acc, _rej, info) => {
              const ch = acc();
              ch.write(info.command === 'id -un' ? `${who}\n` : 'unexpected\n');
              ch.exit(0);
              ch.end();
            }),
          ),
        );
        client.on('error', () => {});
      });
    // like websockify: each WebSocket is bridged to a TCP connection to sshd
    const { createConnection } = await import('node:net');
    const listen = async (who: string) => {
      const srv = sshd(who);
      await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
      after(() => srv.close());
      return (srv.address() as import('node:net').AddressInfo).port;
    };
    const bridge = (sshPort: number) => ({
      onSocket: (_ws: unknown, stream: import('node:stream').Duplex) => {
        const tcp = createConnection(sshPort, '127.0.0.1');
        tcp.on('error', () => stream.destroy());
        stream.on('error', () => tcp.destroy());
        stream.pipe(tcp).pipe(stream);
      },
    });
    const port = await serve({}, { '/ssh': bridge(await listen('idekube')) });
    it('passes: logs in as idekube with the generated key and runs id -un', async () => {
      assert.match(await checkSshLogin(port, ssh, 'idekube', user, 10_000), /logged in as idekube through \/ssh.*`id -un` → idekube/);
    });
    it('fails, saying the key was refused, when authorized_keys lacks the key', async () => {
      await fails(checkSshLogin(port, ssh, 'idekube', stranger, 10_000), /refused with the key given in IDEKUBE_AUTHORIZED_KEYS/);
    });
    it('fails when the command runs as someone else', async () => {
      const other = await serve({}, { '/ssh': bridge(await listen('root')) });
      await fails(checkSshLogin(other, ssh, 'idekube', user, 10_000), /`id -un` gave "root".*expected idekube/);
    });
  });
});
