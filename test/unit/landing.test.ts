/**
 * The landing page, the 401 token page and /etc/idekube/health.json (src/generate/landing.ts): every route shows,
 * every manifest string is escaped, nothing is loaded from elsewhere, and the page's script (run here in a vm with a
 * minimal fake DOM) reads /health relative to the page and builds the SSH command from its own location.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import type { Service } from '../../src/config/model.js';
import { escapeHtml, healthConfig, landingPage, mainService, probePath, scriptJson, tokenPage } from '../../src/generate/landing.js';

function svc(name: string, routes: Service['routes'], extra: Partial<Service> = {}): Service {
  return { name, layer: `layer-${name}`, routes, programs: { [name]: { command: `/usr/bin/${name}` } }, ...extra };
}

/** A featured-like flavor: ssh, a desktop with an exact WebSocket route, code-server, jupyter, a terminal, dind. */
const SAMPLE: Service[] = [
  svc('ssh', [{ path: '/ssh', port: 2222, exact: true, websocket: true }], { description: 'SSH over WebSocket (websocat -> sshd)' }),
  svc(
    'vnc',
    [
      { path: '/vnc/', port: 6081 },
      { path: '/vnc/websockify', port: 6081, exact: true, websocket: true, upstream: '/websockify' },
    ],
    { description: 'XFCE desktop over TurboVNC + noVNC at /vnc/' },
  ),
  svc('coder', [{ path: '/coder/', port: 3000, websocket: true }], { description: 'code-server at /coder/' }),
  svc('jupyter', [{ path: '/jupyter/', port: 8888, keepPrefix: true, websocket: true }], { description: 'JupyterLab at /jupyter/' }),
  svc('terminal', [{ path: '/terminal/', port: 7681, keepPrefix: true, websocket: true }], {
    description: 'A shell in the browser (ttyd)',
  }),
  svc('dind', [], { description: 'Docker Engine (dockerd) for Docker in Docker' }),
];

const page = (services: Service[], description?: string) =>
  landingPage({ flavorId: 'featured/base', ...(description === undefined ? {} : { description }), services, main: mainService(services) });

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const jsonBlock = (html: string) => {
  const m = /<script type="application\/json" id="idekube-flavor">([^<]*)<\/script>/.exec(html);
  assert.ok(m, 'the JSON block is there and holds no <');
  return JSON.parse(m[1]!) as { flavor: string; main: string | null; user: string; ssh: string | null; services: string[] };
};
const inlineScript = (html: string) => {
  const m = /<script>\n([\s\S]*?)\n<\/script>/.exec(html);
  assert.ok(m, 'the page has its inline script');
  return m[1]!;
};

describe('landing page', () => {
  const html = page(SAMPLE, 'Desktop, code-server and Jupyter');

  it('is a complete HTML5 page with the flavor id as title and its description', () => {
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<\/html>\n$/);
    assert.match(html, /<title>featured\/base<\/title>/);
    assert.match(html, /<h1>featured\/base<\/h1>/);
    assert.match(html, /Desktop, code-server and Jupyter/);
    assert.match(html, /<meta charset="utf-8">/);
    assert.match(html, /prefers-color-scheme:dark/);
  });

  it('shows every declared route path, linked relatively, exact WebSocket routes as text', () => {
    for (const s of SAMPLE) {
      assert.ok(html.includes(`<span class="dot" aria-hidden="true"></span>${s.name}`), `service ${s.name} listed`);
      if (s.description) assert.ok(html.includes(escapeHtml(s.description)), `description of ${s.name}`);
      for (const r of s.routes) assert.ok(html.includes(`<code>${r.path}</code>`), `route ${r.path} shown`);
    }
    for (const p of ['/vnc/', '/coder/', '/jupyter/', '/terminal/'])
      assert.ok(html.includes(`<a href=".${p}"><code>${p}</code></a>`), `${p} is a relative link`);
    assert.ok(html.includes('WebSocket endpoint <code>/vnc/websockify</code>'));
    assert.ok(html.includes('WebSocket endpoint <code>/ssh</code>'));
    assert.doesNotMatch(html, /href="\/(?!\/)/, 'no root-absolute link (a prefixing ingress would break it)');
  });

  it('lists a service without routes without a link, and marks the main service', () => {
    const dind = /<li class="svc" id="svc-5"[\s\S]*?<\/li>/.exec(html)?.[0] ?? '';
    assert.match(dind, /<\/span>dind /);
    assert.doesNotMatch(dind, /<a /);
    assert.equal(count(html, /<span class="badge">main<\/span>/g), 1);
    assert.match(html, />ssh<span class="badge">main<\/span>/, 'no main: true → the first service with a route');
    const marked = page([...SAMPLE.slice(0, 3), { ...SAMPLE[3]!, main: true }, ...SAMPLE.slice(4)]);
    assert.match(marked, />jupyter<span class="badge">main<\/span>/);
    assert.equal(jsonBlock(marked).main, 'jupyter');
  });

  it('loads nothing from elsewhere: no http(s):// URL, no external src/href, no @import or url()', () => {
    for (const p of [html, tokenPage()]) {
      assert.doesNotMatch(p, /https?:\/\//);
      assert.doesNotMatch(p, /\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, 'no protocol-relative URL');
      for (const m of p.matchAll(/\b(?:src|href|action)\s*=\s*"([^"]*)"/gi)) {
        assert.ok(m[1] === 'data:,' || /^\.\//.test(m[1]!), `local reference ${m[0]}`);
      }
      assert.doesNotMatch(p, /@import|url\(/);
      assert.doesNotMatch(p, /<(?:link|script|img|iframe)[^>]*\bsrc=/i);
    }
  });

  it('is small: under 12 KB for the six sample services', () => {
    assert.ok(Buffer.byteLength(html) < 12 * 1024, `${Buffer.byteLength(html)} bytes`);
    assert.ok(Buffer.byteLength(tokenPage()) < 12 * 1024);
  });

  it('escapes hostile names, descriptions and paths; the JSON block cannot close its script', () => {
    const evil = `x"><script>alert('n')</script>`;
    const desc = `</script><script>alert("d")</script> & 'quotes' <!-- \u2028`;
    const services = [svc(evil, [{ path: '/a"><script>/', port: 1 }], { description: desc }), ...SAMPLE];
    const h = landingPage({ flavorId: `f</title><script>x</script>`, description: desc, services, main: evil });
    assert.equal(count(h, /<script/gi), 2, 'only the JSON block and the page script');
    assert.equal(count(h, /<\/script/gi), 2);
    assert.doesNotMatch(h, /<!--/);
    assert.ok(h.includes(escapeHtml(evil)));
    assert.ok(h.includes(escapeHtml(desc)));
    assert.ok(h.includes('<code>/a&#34;&#62;&#60;script&#62;/</code>'));
    const data = jsonBlock(h);
    assert.equal(data.services[0], evil, 'the JSON block reads back exactly');
    assert.equal(data.main, evil);
    assert.equal(data.flavor, `f</title><script>x</script>`);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    assert.equal(scriptJson('</script>\u2028&'), '"\\u003c/script\\u003e\\u2028\\u0026"');
  });

  it('has the SSH section only when a service has the route /ssh', () => {
    assert.match(html, /<h2 id="ssh-h">SSH access<\/h2>/);
    assert.ok(html.includes('ssh -o ProxyCommand="websocat --binary -E wss://HOST/ssh" idekube@localhost'));
    assert.match(html, /<button type="button" id="ssh-copy">Copy<\/button>/);
    assert.equal(jsonBlock(html).ssh, 'ssh');
    const none = page(SAMPLE.slice(1));
    assert.doesNotMatch(none.replace(/<script>[\s\S]*?<\/script>/, ''), /SSH access|ssh-cmd|ssh-copy|ProxyCommand/);
    assert.equal(jsonBlock(none).ssh, null);
  });

  it('is deterministic', () => {
    assert.equal(page(SAMPLE, 'Desktop, code-server and Jupyter'), html);
    assert.equal(tokenPage(), tokenPage());
  });

  it('has a script that parses', () => {
    assert.doesNotThrow(() => new vm.Script(inlineScript(html)));
    assert.doesNotThrow(() => new vm.Script(inlineScript(page([]))));
  });
});

/** Runs the page's script against a fake DOM; returns the elements by id and what it fetched. */
async function runScript(html: string, href: string, health: (url: URL) => Promise<{ json(): Promise<unknown> }>, secure = true) {
  const els = new Map<string, { textContent: string; attrs: Record<string, string>; listeners: Record<string, () => void> }>();
  const el = (id: string) => {
    if (!els.has(id)) els.set(id, { textContent: '', attrs: {}, listeners: {} });
    return els.get(id)!;
  };
  for (const m of html.matchAll(/id="([^"]+)"/g)) el(m[1]!);
  el('idekube-flavor').textContent = /<script type="application\/json" id="idekube-flavor">([^<]*)<\/script>/.exec(html)![1]!;
  const fetched: Array<{ url: string; cache: unknown }> = [];
  const intervals: number[] = [];
  const copied: string[] = [];
  const selected: unknown[] = [];
  const document = {
    createRange: () => ({ selectNodeContents: (n: unknown) => selected.push(n) }),
    execCommand: (c: string) => c === 'copy' && !secure && href.includes('copy-works'),
    getElementById: (id: string) => {
      const e = els.get(id);
      return e
        ? {
            ...e,
            get textContent() {
              return e.textContent;
            },
            set textContent(v: string) {
              e.textContent = v;
            },
            setAttribute: (k: string, v: string) => {
              e.attrs[k] = v;
            },
            addEventListener: (k: string, f: () => void) => {
              e.listeners[k] = f;
            },
          }
        : null;
    },
  };
  const context = {
    document,
    location: new URL(href),
    URL,
    Date,
    JSON,
    Object,
    setInterval: (_f: () => void, ms: number) => intervals.push(ms),
    fetch: (url: URL, opts: { cache: unknown }) => {
      fetched.push({ url: String(url), cache: opts.cache });
      return health(url);
    },
    navigator: { clipboard: { writeText: async (t: string) => void copied.push(t) } },
    window: { isSecureContext: secure, getSelection: () => ({ removeAllRanges() {}, addRange() {} }) },
  };
  vm.runInNewContext(inlineScript(html), context);
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  return { els, fetched, intervals, copied, selected };
}

describe('landing page script', () => {
  const html = page(SAMPLE);
  const ok = (body: unknown) => async () => ({ json: async () => body });

  it('fetches health relative to the page, no-store, every 10 s; marks services and the overall state', async () => {
    const health = {
      status: 'degraded',
      main: 'ssh',
      services: {
        ssh: { healthy: true },
        vnc: { healthy: false },
        coder: { healthy: true },
        jupyter: { healthy: true },
        terminal: { healthy: true },
      },
    };
    const { els, fetched, intervals } = await runScript(html, 'https://ide.example.org/team/alice/?x=1#top', ok(health));
    assert.deepEqual(fetched, [{ url: 'https://ide.example.org/team/alice/health', cache: 'no-store' }]);
    assert.deepEqual(intervals, [10000]);
    assert.equal(els.get('status')!.attrs['data-state'], 'degraded');
    assert.match(els.get('status-text')!.textContent, /Degraded: a service is down/);
    const state = (i: number) => [els.get(`svc-${i}`)!.attrs['data-state'], els.get(`svc-${i}-state`)!.textContent];
    assert.deepEqual(state(0), ['up', 'up']);
    assert.deepEqual(state(1), ['down', 'down']);
    assert.deepEqual(state(5), ['none', 'not probed'], 'dind has no probe');
  });

  it('says when the main service is down, and unavailable when /health fails or errors', async () => {
    const mainDown = { status: 'degraded', services: { ssh: { healthy: false } } };
    let r = await runScript(html, 'http://localhost:8080/', ok(mainDown));
    assert.match(r.els.get('status-text')!.textContent, /main service is down/);
    r = await runScript(html, 'http://localhost:8080/', async () => {
      throw new TypeError('network');
    });
    assert.equal(r.els.get('status')!.attrs['data-state'], 'unavailable');
    assert.equal(r.els.get('svc-0')!.attrs['data-state'], 'unknown');
    r = await runScript(html, 'http://localhost:8080/', ok({ status: 'error', error: 'bad config' }));
    assert.equal(r.els.get('status')!.attrs['data-state'], 'unavailable');
    r = await runScript(html, 'http://localhost:8080/', ok({ status: 'healthy', services: {} }));
    assert.equal(r.els.get('status')!.attrs['data-state'], 'healthy');
  });

  it('builds the SSH command from the page location (wss on https, ws on http, any prefix) and copies it', async () => {
    const up = ok({ status: 'healthy', services: {} });
    let r = await runScript(html, 'https://ide.example.org/', up);
    const cmd = 'ssh -o ProxyCommand="websocat --binary -E wss://ide.example.org/ssh" idekube@localhost';
    assert.equal(r.els.get('ssh-cmd')!.textContent, cmd);
    r.els.get('ssh-copy')!.listeners.click!();
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(r.copied, [cmd]);
    assert.equal(r.els.get('ssh-msg')!.textContent, 'Copied.');
    r = await runScript(html, 'http://10.0.0.5:8080/u/bob/', up, false);
    assert.equal(
      r.els.get('ssh-cmd')!.textContent,
      'ssh -o ProxyCommand="websocat --binary -E ws://10.0.0.5:8080/u/bob/ssh" idekube@localhost',
    );
    r.els.get('ssh-copy')!.listeners.click!();
    assert.deepEqual(r.copied, [], 'no clipboard API outside a secure context');
    assert.equal(r.selected.length, 1, 'the fallback selects the command');
    assert.match(r.els.get('ssh-msg')!.textContent, /^Selected: press Ctrl\+C/);
    r = await runScript(html, 'http://10.0.0.5/copy-works/', up, false);
    r.els.get('ssh-copy')!.listeners.click!();
    assert.equal(r.els.get('ssh-msg')!.textContent, 'Copied.', 'execCommand copy worked');
  });
});

describe('token page', () => {
  const html = tokenPage();
  it('has the GET form without action, the token input and a submit button', () => {
    assert.match(html, /<form method="get"[^>]*>/);
    assert.doesNotMatch(html, /<form[^>]*action=/);
    assert.match(
      html,
      /<input id="token" name="idekube-container-access-token" type="password" autocomplete="current-password" required[^>]*>/,
    );
    assert.match(html, /<label for="token">/);
    assert.match(html, /<button type="submit">/);
    assert.match(html, /cookie[^.]*for a day/);
    assert.doesNotMatch(html, /<script/);
  });
  it('shares the landing page styles', () => {
    const style = (h: string) => /<style>[\s\S]*?<\/style>/.exec(h)![0];
    assert.equal(style(html), style(page(SAMPLE)));
  });
});

describe('health config', () => {
  it('has the upstream shape: branch, entry, main and a probe per service with a route (first route)', () => {
    const { text, main } = healthConfig('featured/base', SAMPLE);
    assert.equal(main, 'ssh');
    assert.ok(text.endsWith('}\n'));
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, '2-space JSON');
    assert.deepEqual(JSON.parse(text), {
      branch: 'featured/base',
      entry: '/',
      main: 'ssh',
      services: {
        ssh: { port: 2222, path: '/ssh', probePath: '/' },
        vnc: { port: 6081, path: '/vnc/', probePath: '/' },
        coder: { port: 3000, path: '/coder/', probePath: '/' },
        jupyter: { port: 8888, path: '/jupyter/', probePath: '/jupyter/' },
        terminal: { port: 7681, path: '/terminal/', probePath: '/terminal/' },
      },
    });
    assert.ok(!text.includes('dind'), 'services without routes are left out');
  });

  it('main: the last main: true wins, else the first service with a route, else none', () => {
    const marked = SAMPLE.map((s) => (s.name === 'coder' || s.name === 'jupyter' ? { ...s, main: true } : s));
    assert.equal(mainService(marked), 'jupyter');
    assert.equal(healthConfig('f', marked).main, 'jupyter');
    assert.equal(JSON.parse(healthConfig('f', marked).text).main, 'jupyter');
    assert.equal(mainService(SAMPLE), 'ssh');
    assert.equal(mainService([SAMPLE[5]!, SAMPLE[2]!, SAMPLE[3]!]), 'coder', 'skips a first service without routes');
    assert.equal(mainService([SAMPLE[5]!]), undefined);
    assert.equal(mainService([]), undefined);
    const none = healthConfig('f', [SAMPLE[5]!]);
    assert.equal(none.main, undefined);
    assert.deepEqual(JSON.parse(none.text), { branch: 'f', entry: '/', main: null, services: {} });
  });

  it('probePath: the public path with keepPrefix, else the upstream, else /', () => {
    assert.equal(probePath({ path: '/jupyter/', port: 1, keepPrefix: true }), '/jupyter/');
    assert.equal(probePath({ path: '/terminal', port: 1, keepPrefix: true }), '/terminal');
    assert.equal(probePath({ path: '/terminal', port: 1 }), '/');
    assert.equal(probePath({ path: '/vnc/websockify', port: 1, exact: true, upstream: '/websockify' }), '/websockify');
    assert.equal(probePath({ path: '/agent/', port: 1, upstream: '/api/' }), '/api/');
    assert.equal(probePath({ path: '/coder/', port: 1 }), '/');
    const first = healthConfig('f', [
      svc('novnc', [
        { path: '/vnc/websockify', port: 6081, exact: true, websocket: true, upstream: '/websockify' },
        { path: '/vnc/', port: 6081 },
      ]),
    ]);
    assert.deepEqual(JSON.parse(first.text).services.novnc, { port: 6081, path: '/vnc/websockify', probePath: '/websockify' });
  });

  it('is deterministic and keeps the first of two services with the same name', () => {
    assert.equal(healthConfig('featured/base', SAMPLE).text, healthConfig('featured/base', SAMPLE.slice()).text);
    const twice = healthConfig('f', [svc('web', [{ path: '/a/', port: 1 }]), svc('web', [{ path: '/b/', port: 2 }])]);
    assert.deepEqual(JSON.parse(twice.text).services, { web: { port: 1, path: '/a/', probePath: '/' } });
  });
});
