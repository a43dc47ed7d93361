/**
 * The access token (IDEKUBE_ACCESS_TOKEN), seen from a client: protected routes answer 401 with the token form
 * without it (or with a wrong one), and let it in as a query parameter (302 that sets the cookie and drops it from
 * the URL), a cookie or a header; WebSocket upgrades likewise; routes declared `open` and /health need none.
 */
import { randomBytes } from 'node:crypto';
import type { Route } from '../../config/model.js';
import { describeAnswer, httpGet, upstreamDown, type HttpAnswer } from '../http.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { poll } from '../wait.js';
import { describeFailedUpgrade, wsProbe, type WsProbe } from '../websocket.js';
import { mainRoute } from './coder.js';
import { sshPaths } from './ssh.js';
import { terminalTarget } from './terminal.js';
import { messageOf } from '../../config/errors.js';

export const TOKEN_PARAM = 'idekube-container-access-token';
export const TOKEN_COOKIE = 'idekube_container_access_token';
export const TOKEN_HEADER = 'X-IDEKUBE-Container-Access-Token';

/** A token that uses every kind of character the runtime accepts but `%` and `+` (which URLs rewrite). */
export function makeToken(): string {
  const h = (n: number) => randomBytes(n).toString('hex');
  return `idekube.${h(4)}_${h(3)}:${h(3)}@${h(3)}-${h(4)}`;
}

/** Messages never carry the token (a test report is not a place for secrets, even throwaway ones). */
export function redact(text: string, token: string): string {
  return [token, encodeURIComponent(token)].reduce((t, v) => t.split(v).join('<token>'), text);
}

export const header = (token: string) => ({ [TOKEN_HEADER]: token });
export const cookie = (token: string) => ({ cookie: `${TOKEN_COOKIE}=${token}` });

/** The path the token checks probe: the main service's first route that is not open, else `/` (the landing page). */
export function protectedPath(_services: VerifyService[], main: VerifyService | undefined): string {
  return main?.routes.find((r) => !r.open)?.path ?? '/';
}

export interface SocketTarget {
  path: string;
  protocols: string[];
  /** What it is, for messages. */
  what: string;
}

/**
 * A protected WebSocket that upgrades without a session of its own: the terminal's, an exact WebSocket route (the
 * noVNC bridge), or code-server's editor connection. undefined: the image declares none.
 */
export function protectedSocket(services: VerifyService[]): SocketTarget | undefined {
  for (const s of services) {
    if (s.check === 'terminal' && s.routes.some((r) => !r.open))
      return { path: terminalTarget(s).socket, protocols: ['tty'], what: `the terminal of service ${s.name}` };
  }
  for (const s of services) {
    const r = s.routes.find((x) => x.websocket && x.exact && !x.open);
    if (r) return { path: r.path, protocols: s.check === 'vnc' ? ['binary'] : [], what: `route ${r.path} of service ${s.name}` };
  }
  for (const s of services) {
    if (s.check !== 'coder' || !s.routes.some((r) => !r.open)) continue;
    const base = mainRoute(s).path.replace(/\/*$/, '/');
    return {
      path: `${base}?reconnectionToken=${randomBytes(8).toString('hex')}&reconnection=false&skipWebSocketFrames=false`,
      protocols: [],
      what: `the editor connection of service ${s.name}`,
    };
  }
  return undefined;
}

/** Routes declared `open` (reachable without the token: services that authenticate on their own, like SSH). */
export function openRoutes(services: VerifyService[]): Route[] {
  return services.flatMap((s) => s.routes.filter((r) => r.open));
}

async function get(port: number, path: string, headers: Record<string, string>, token: string, timeoutMs: number): Promise<HttpAnswer> {
  try {
    return await httpGet(port, path, timeoutMs, headers);
  } catch (e) {
    fail(redact(`GET ${path} failed: ${messageOf(e)}`, token));
  }
}

/** `201 "title" (server)`: the answer, for messages. */
const said = (a: HttpAnswer) => describeAnswer(a);

export async function checkAuth401(port: number, path: string, token: string, timeoutMs = 10_000): Promise<string> {
  const none = await get(port, path, {}, token, timeoutMs);
  if (none.status !== 401)
    fail(`GET ${path} without a token answered ${said(none)}, expected 401: the route is not protected by IDEKUBE_ACCESS_TOKEN`);
  if (!none.body.includes(TOKEN_PARAM))
    fail(
      `GET ${path} without a token answered 401 but without the token form (nothing named ${TOKEN_PARAM} in its ${none.body.length} bytes)`,
    );
  if (!/^text\/html\b/i.test(none.headers['content-type'] ?? ''))
    fail(
      `GET ${path} without a token answered 401 with Content-Type ${none.headers['content-type'] ?? '(none)'}, expected text/html (the token form)`,
    );
  const wrongHeader = await get(port, path, header(`${token}x`), token, timeoutMs);
  if (wrongHeader.status !== 401) fail(`GET ${path} with a wrong token in ${TOKEN_HEADER} answered ${said(wrongHeader)}, expected 401`);
  const wrongQuery = await get(port, `${path}?${TOKEN_PARAM}=wrong-${randomBytes(3).toString('hex')}`, {}, token, timeoutMs);
  if (wrongQuery.status !== 401) fail(`GET ${path}?${TOKEN_PARAM}=<wrong> answered ${said(wrongQuery)}, expected 401`);
  if (wrongQuery.headers['set-cookie'])
    fail(
      `GET ${path}?${TOKEN_PARAM}=<wrong> answered 401 but set a cookie (${redact(wrongQuery.headers['set-cookie'], token).slice(0, 80)})`,
    );
  return `GET ${path} → 401 with the token form (text/html) without a token, with a wrong ${TOKEN_HEADER} and with a wrong token in the URL`;
}

/** The cookie a Set-Cookie header sets under `name`, with its attributes (lower-cased names), or undefined. */
export function parseSetCookie(value: string | undefined, name: string): { value: string; attrs: Map<string, string> } | undefined {
  if (!value) return undefined;
  // several cookies come joined with ", " (httpGet): split where a new name=value starts
  for (const one of value.split(/,\s*(?=[!#$%&'*+.^_`|~0-9A-Za-z-]+=)/)) {
    const [first, ...rest] = one.split(';').map((x) => x.trim());
    const eq = first!.indexOf('=');
    if (eq < 0 || first!.slice(0, eq) !== name) continue;
    const attrs = new Map<string, string>();
    for (const a of rest) {
      const i = a.indexOf('=');
      attrs.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1));
    }
    return { value: first!.slice(eq + 1), attrs };
  }
  return undefined;
}

/** What the cookie lacks among Path=/, Max-Age=86400, HttpOnly, SameSite=Lax (empty: nothing). */
export function cookieProblems(c: { attrs: Map<string, string> }): string[] {
  const out: string[] = [];
  if (c.attrs.get('path') !== '/') out.push('Path=/');
  if (c.attrs.get('max-age') !== '86400') out.push('Max-Age=86400');
  if (!c.attrs.has('httponly')) out.push('HttpOnly');
  if ((c.attrs.get('samesite') ?? '').toLowerCase() !== 'lax') out.push('SameSite=Lax');
  return out;
}

export async function checkAuthQuery(port: number, path: string, token: string, timeoutMs = 10_000): Promise<string> {
  const asked = async (rest: string, want: string) => {
    const from = `${path}?${TOKEN_PARAM}=${token}${rest}`;
    const shown = `${path}?${TOKEN_PARAM}=<token>${rest}`;
    const a = await get(port, from, {}, token, timeoutMs);
    const location = a.headers.location ?? '';
    if (a.status !== 302) fail(`GET ${shown} answered ${said(a)}, expected 302 to ${want} that sets the cookie`);
    if (location !== want)
      fail(
        `GET ${shown} redirects to ${JSON.stringify(redact(location, token))}, expected ${want} (relative, the token removed, the other parameters kept)`,
      );
    const c = parseSetCookie(a.headers['set-cookie'], TOKEN_COOKIE);
    if (!c)
      fail(
        `GET ${shown} → 302 but no Set-Cookie ${TOKEN_COOKIE}${a.headers['set-cookie'] ? ` (it sets ${redact(a.headers['set-cookie'], token).slice(0, 80)})` : ''}`,
      );
    if (c.value !== token && decodeURIComponent(c.value) !== token)
      fail(`GET ${shown} sets ${TOKEN_COOKIE} to another value than the token`);
    const missing = cookieProblems(c);
    if (missing.length) fail(`GET ${shown} sets ${TOKEN_COOKIE} without ${missing.join(', ')}`);
    return location;
  };
  const location = await asked('&keep=1', `${path}?keep=1`);
  await asked('', path);
  const next = await get(port, location, cookie(token), token, timeoutMs);
  if (next.status === 401)
    fail(`after GET ${path}?${TOKEN_PARAM}=<token>&keep=1 → 302 ${location}, GET ${location} with the cookie it set answered 401`);
  return `GET ${path}?${TOKEN_PARAM}=<token>&keep=1 → 302 ${location} with Set-Cookie ${TOKEN_COOKIE} (Path=/, Max-Age=86400, HttpOnly, SameSite=Lax); alone → 302 ${path}; GET ${location} with the cookie → ${next.status}`;
}

async function letIn(
  port: number,
  path: string,
  headers: Record<string, string>,
  how: string,
  token: string,
  timeoutMs: number,
): Promise<string> {
  const a = await get(port, path, headers, token, timeoutMs);
  if (a.status === 401 || a.status === 403)
    fail(`GET ${path} with the token in ${how} answered ${said(a)}: the token is not accepted that way`);
  return `GET ${path} with the token in ${how} → ${a.status}${upstreamDown(a.status) ? ' (past the token check; the service behind is not up)' : ''}`;
}

export const checkAuthHeader = (port: number, path: string, token: string, timeoutMs = 10_000) =>
  letIn(port, path, header(token), `the ${TOKEN_HEADER} header`, token, timeoutMs);
export const checkAuthCookie = (port: number, path: string, token: string, timeoutMs = 10_000) =>
  letIn(port, path, cookie(token), `the ${TOKEN_COOKIE} cookie`, token, timeoutMs);

export async function checkAuthWebsocket(port: number, target: SocketTarget, token: string, timeoutMs = 15_000): Promise<string> {
  const shown = target.path.replace(/\?.*$/, '');
  const without = await wsProbe(port, target.path, { protocols: target.protocols, bytes: 0, timeoutMs });
  if (without.opened)
    fail(
      `the WebSocket upgrade on ${shown} (${target.what}) without a token answered 101: WebSocket routes are not protected by IDEKUBE_ACCESS_TOKEN`,
    );
  if (without.status !== 401)
    fail(`the WebSocket upgrade on ${shown} without a token: ${describeFailedUpgrade(without, shown)}, expected 401`);
  // the service behind may still be starting (nginx says 502): a few tries, bounded
  let withCookie: WsProbe | undefined;
  await poll(
    async () => {
      withCookie = await wsProbe(port, target.path, { protocols: target.protocols, bytes: 0, timeoutMs, headers: cookie(token) });
      return withCookie.opened || !upstreamDown(withCookie.status ?? 0) ? withCookie : undefined;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  if (!withCookie?.opened)
    fail(
      `with the ${TOKEN_COOKIE} cookie, ${describeFailedUpgrade(withCookie!, shown)}${withCookie?.status === 401 ? ': the cookie is not accepted on WebSocket upgrades' : ''}`,
    );
  return `WebSocket ${shown} (${target.what}): without a token → 401, with the cookie → 101`;
}

export async function checkAuthOpenRoutes(port: number, routes: Route[], timeoutMs = 15_000): Promise<string> {
  const done: string[] = [];
  for (const r of routes) {
    for (const path of r.websocket && r.exact ? sshPaths(r) : [r.path]) {
      if (r.websocket && r.exact) {
        const p = await wsProbe(port, path, { bytes: 0, timeoutMs });
        if (p.status === 401)
          fail(
            `the WebSocket upgrade on ${path} without a token answered 401: the route is declared open (it authenticates on its own, e.g. SSH keys)`,
          );
        const why = describeFailedUpgrade(p, path);
        if (why) fail(`${why} (without a token, on a route declared open)`);
        done.push(`${path} → 101`);
      } else {
        const a = await httpGet(port, path, timeoutMs).catch((e: Error) => fail(`GET ${path} failed: ${e.message}`));
        if (a.status === 401) fail(`GET ${path} without a token answered 401: the route is declared open`);
        done.push(`${path} → ${a.status}`);
      }
    }
  }
  const h = await httpGet(port, '/health', timeoutMs).catch((e: Error) => fail(`GET /health failed: ${e.message}`));
  if (h.status === 401) fail('GET /health without a token answered 401: health probes (Kubernetes) carry no token, /health must stay open');
  if (h.status === 404) fail(`GET /health answered ${describeAnswer(h)}: no /health location in nginx`);
  done.push(`/health → ${h.status}`);
  return `without a token: ${done.join(', ')}`;
}
