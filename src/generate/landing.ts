/**
 * The pages nginx serves itself and the health server's configuration, generated per flavor from its services:
 * - the landing page at `/` (/usr/share/idekube/www/index.html): the flavor, a link per route of every service,
 *   the SSH ProxyCommand to copy and the live state read from `/health`;
 * - the 401 page (a form asking for the access token);
 * - /etc/idekube/health.json (which service is main, what to probe where).
 * Pure functions of their input: the same services give the same bytes. The pages are self-contained (inline CSS
 * and JS, nothing loaded from anywhere) and use only relative URLs, so they work offline and behind an ingress
 * under any host and path prefix. Every manifest string is HTML-escaped; the data the script reads is a JSON block
 * in which no string can close the script.
 */
import type { Route, Service } from '../config/model.js';
import { IMAGE_USER } from './services.js';

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON for a `<script type="application/json">` block: no `<` (so no `</script>` or `<!--`), `>`, `&` or line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The flavor's main service: the LAST service with a route declared `main: true` (services in flavor order: the parent's, then
 * the flavor's own layers'); none marked → the first service with a route; no service with a route → undefined.
 */
export function mainService(services: Service[]): string | undefined {
  // a service without a route cannot be probed, so it cannot be the one /health answers 502 for
  for (let i = services.length - 1; i >= 0; i--) if (services[i]!.main === true && services[i]!.routes.length) return services[i]!.name;
  return services.find((s) => s.routes.length > 0)?.name;
}

/** The path the service itself serves a route at: the public path with keepPrefix, else `upstream` or `/`. */
export function probePath(r: Route): string {
  return r.keepPrefix ? r.path : (r.upstream ?? '/');
}

/**
 * /etc/idekube/health.json: `{branch, entry, main, services: {name: {port, path, probePath}}}` (2-space JSON and a
 * newline). Only services with a route appear, from their first route; a name declared twice keeps the first.
 * `main` is null when no service has a route.
 */
export function healthConfig(flavorId: string, services: Service[]): { text: string; main: string | undefined } {
  const main = mainService(services);
  const probed: Record<string, { port: number; path: string; probePath: string }> = {};
  for (const s of services) {
    const r = s.routes[0];
    if (!r || Object.hasOwn(probed, s.name)) continue;
    probed[s.name] = { port: r.port, path: r.path, probePath: probePath(r) };
  }
  const text = `${JSON.stringify({ branch: flavorId, entry: '/', main: main ?? null, services: probed }, null, 2)}\n`;
  return { text, main };
}

/** Shared by the landing and the token page: light and dark, no web fonts. */
export const PAGE_CSS = `:root{color-scheme:light dark;--bg:#f6f7f9;--fg:#1b1f24;--mute:#5b6470;--card:#fff;--line:#d8dde3;--link:#0b5cad;--up:#1a7f37;--down:#c62828;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e6e9ed;--mute:#9aa4af;--card:#1a1f25;--line:#2e353d;--link:#6cb0ff;--up:#3fb950;--down:#f47067;--warn:#d29922}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main,footer{max-width:52rem;margin:0 auto;padding:1rem 1.25rem}
header{padding-bottom:0}
h1{margin:.5rem 0 .25rem;font-size:1.6rem;word-break:break-word}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
h3{margin:0;font-size:1.05rem;display:flex;align-items:center;gap:.25rem}
a{color:var(--link)}
code,pre,input{font:.9rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.desc{margin:.25rem 0;color:var(--mute);white-space:pre-line;word-break:break-word}
.card,.svc{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.75rem 1rem;margin:.5rem 0}
ul{padding:0;margin:0;list-style:none}
.routes{margin:.25rem 0 0}
.routes li{margin:.15rem 0}
.badge{font-size:.75rem;font-weight:400;border:1px solid currentColor;border-radius:1rem;padding:0 .5rem;margin-left:.25rem;color:var(--mute)}
.dot{display:inline-block;flex:none;width:.7rem;height:.7rem;border-radius:50%;background:var(--line);margin-right:.4rem}
[data-state=up] .dot,[data-state=healthy] .dot{background:var(--up)}
[data-state=down] .dot,[data-state=unavailable] .dot{background:var(--down)}
[data-state=degraded] .dot{background:var(--warn)}
.state{margin-left:auto;color:var(--mute);font-size:.9rem;font-weight:400}
[data-state=up] .state{color:var(--up)}
[data-state=down] .state{color:var(--down)}
.copy{display:flex;gap:.5rem;align-items:flex-start}
pre{flex:1;margin:0;padding:.6rem .75rem;overflow-x:auto;background:var(--bg);border:1px solid var(--line);border-radius:.4rem;white-space:pre-wrap;word-break:break-all}
button,input{font-size:1rem;padding:.45rem .9rem;border-radius:.4rem;border:1px solid var(--line);background:var(--card);color:var(--fg)}
button{cursor:pointer;border-color:var(--link)}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;margin-bottom:.75rem}
footer{color:var(--mute);font-size:.85rem}`;

/** The whole page may only load inline styles and scripts and talk to its own origin (the /health fetch). */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'self'";

function head(title: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="robots" content="noindex">',
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${PAGE_CSS}\n</style>`,
    '</head>',
  ].join('\n');
}

/** A route's link relative to the page (`/coder/` → `./coder/`), so a path-prefixing ingress keeps working. */
function relativeHref(path: string): string {
  return `./${path.replace(/^\/+/, '')}`;
}

function routeItem(r: Route): string {
  const path = `<code>${escapeHtml(r.path)}</code>`;
  if (r.websocket && r.exact) return `<li>WebSocket endpoint ${path}</li>`;
  return `<li><a href="${escapeHtml(relativeHref(r.path))}">${path}</a></li>`;
}

/** The page's script: the live state from /health (on load and every 10 s) and the SSH command with a copy button. */
const LANDING_JS = `(function(){'use strict';
var $=function(id){return document.getElementById(id)};
var data=JSON.parse($('idekube-flavor').textContent);
var LABEL={up:'up',down:'down',none:'not probed',unknown:'unknown'};
function apply(h){
  var ok=h&&typeof h==='object'&&(h.status==='healthy'||h.status==='degraded');
  var overall=ok?h.status:'unavailable';
  var svcs=ok&&h.services&&typeof h.services==='object'?h.services:null;
  var mainDown=false;
  data.services.forEach(function(name,i){
    var s=svcs&&Object.prototype.hasOwnProperty.call(svcs,name)?svcs[name]:null;
    var state=!svcs?'unknown':!s?'none':s.healthy===true?'up':'down';
    if(state==='down'&&name===data.main)mainDown=true;
    $('svc-'+i).setAttribute('data-state',state);
    $('svc-'+i+'-state').textContent=LABEL[state];
  });
  var st=$('status');
  st.setAttribute('data-state',overall);
  $('status-text').textContent=overall==='healthy'?'Healthy: every service is up'
    :overall==='degraded'?(mainDown?'Degraded: the main service is down':'Degraded: a service is down')
    :'Unavailable: the health check did not answer';
  $('checked').textContent='Checked at '+new Date().toLocaleTimeString();
}
var busy=false;
function check(){
  if(busy)return;busy=true;
  fetch(new URL('health',location.href),{cache:'no-store',headers:{Accept:'application/json'}})
    .then(function(r){return r.json()}).then(apply,function(){apply(null)})
    .then(function(){busy=false},function(){busy=false});
}
check();setInterval(check,10000);
var cmd=$('ssh-cmd');
if(cmd&&data.ssh){
  var u=new URL(data.ssh,location.href);
  cmd.textContent='ssh -o ProxyCommand="websocat --binary -E '+(location.protocol==='https:'?'wss://':'ws://')+u.host+u.pathname+'" '+data.user+'@localhost';
  var msg=$('ssh-msg');
  var fallback=function(){
    var r=document.createRange();r.selectNodeContents(cmd);
    var sel=window.getSelection();sel.removeAllRanges();sel.addRange(r);
    var done=false;try{done=document.execCommand('copy')}catch(e){}
    msg.textContent=done?'Copied.':'Selected: press Ctrl+C (Cmd+C) to copy.';
  };
  $('ssh-copy').addEventListener('click',function(){
    if(navigator.clipboard&&window.isSecureContext)navigator.clipboard.writeText(cmd.textContent).then(function(){msg.textContent='Copied.'},fallback);
    else fallback();
  });
}
})();`;

/** The landing page at `/`: the flavor, its services and routes, the SSH command and the live health. */
export function landingPage(input: { flavorId: string; description?: string; services: Service[]; main: string | undefined }): string {
  const { flavorId, description, services, main } = input;
  const ssh = services.some((s) => s.routes.some((r) => r.path === '/ssh'));
  const items = services.map((s, i) => {
    const lines = [
      `<li class="svc" id="svc-${i}" data-state="unknown">`,
      `<h3 class="name"><span class="dot" aria-hidden="true"></span>${escapeHtml(s.name)}${s.name === main ? '<span class="badge">main</span>' : ''}` +
        ` <span class="state" id="svc-${i}-state">checking</span></h3>`,
    ];
    if (s.description) lines.push(`<p class="desc">${escapeHtml(s.description)}</p>`);
    lines.push(
      s.routes.length
        ? `<ul class="routes">${s.routes.map(routeItem).join('')}</ul>`
        : '<p class="desc">Runs in the background: no web page.</p>',
      '</li>',
    );
    return lines.join('\n');
  });
  const data = { flavor: flavorId, main: main ?? null, user: IMAGE_USER, ssh: ssh ? 'ssh' : null, services: services.map((s) => s.name) };
  const body = [
    '<body>',
    '<header>',
    `<h1>${escapeHtml(flavorId)}</h1>`,
    ...(description ? [`<p class="desc">${escapeHtml(description)}</p>`] : []),
    '<p id="status" class="card" data-state="unknown" role="status" aria-live="polite"><span class="dot" aria-hidden="true"></span><span id="status-text">Checking the services</span></p>',
    '</header>',
    '<main>',
    '<section aria-labelledby="services-h">',
    '<h2 id="services-h">Services</h2>',
    `<ul class="services">\n${items.join('\n')}\n</ul>`,
    '</section>',
  ];
  if (ssh) {
    body.push(
      '<section aria-labelledby="ssh-h">',
      '<h2 id="ssh-h">SSH access</h2>',
      `<p>With <code>websocat</code> installed and your public key authorized in the workspace, connect as <code>${escapeHtml(IMAGE_USER)}</code>:</p>`,
      '<div class="copy">',
      `<pre><code id="ssh-cmd" aria-label="SSH command">ssh -o ProxyCommand="websocat --binary -E wss://HOST/ssh" ${escapeHtml(IMAGE_USER)}@localhost</code></pre>`,
      '<button type="button" id="ssh-copy">Copy</button>',
      '</div>',
      '<p id="ssh-msg" class="desc" role="status" aria-live="polite"></p>',
      '</section>',
    );
  }
  body.push(
    '</main>',
    '<footer><span id="checked"></span> &middot; generated by idekube</footer>',
    `<script type="application/json" id="idekube-flavor">${scriptJson(data)}</script>`,
    `<script>\n${LANDING_JS}\n</script>`,
    '</body>',
    '</html>',
    '',
  );
  return `${head(flavorId)}\n${body.join('\n')}`;
}

/** The 401 page: asks for the access token; the form submits to the current path, which answers with the cookie. */
export function tokenPage(): string {
  return `${head('Access token required')}
<body>
<main>
<h1>Access token required</h1>
<p>This workspace is protected by an access token. Enter it to continue.</p>
<form method="get" class="card">
<label for="token">Access token</label>
<input id="token" name="idekube-container-access-token" type="password" autocomplete="current-password" required autofocus spellcheck="false">
<button type="submit">Continue</button>
</form>
<p class="desc">The token is then kept in a cookie in this browser for a day. You can also open a link ending in <code>?idekube-container-access-token=&lt;token&gt;</code> or send the header <code>X-IDEKUBE-Container-Access-Token</code>.</p>
</main>
</body>
</html>
`;
}
