/**
 * The landing page: `/` lists every route of every service the image declares (as text or a link), and a path no
 * route matches is sent there (302 to `/`, relative or to the same host and port).
 */
import type { Route } from '../../config/model.js';
import { describeAnswer, httpGet } from '../http.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { landingProblem } from './nginx.js';

/** A path nothing declares: nginx's catch-all must send it to the landing page. */
export const UNKNOWN_PATH = '/idekube-test-no-such-path';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page names the route: its path as text (raw or HTML-escaped), or a link to it (absolute or `./x/`). */
export function listsRoute(body: string, path: string): boolean {
  const rel = `./${path.replace(/^\/+/, '')}`;
  return [path, escapeHtml(path), `href="${rel}"`, `href="${escapeHtml(rel)}"`].some((x) => body.includes(x));
}

/** A Location that leads to `/` of the same origin: relative (`/`, `./`), or http://127.0.0.1:PORT/. */
export function toLandingPage(location: string, port: number): boolean {
  if (!location || location.startsWith('//')) return false;
  try {
    const here = new URL(`http://127.0.0.1:${port}${UNKNOWN_PATH}`);
    const u = new URL(location, here);
    return u.origin === here.origin && u.pathname === '/';
  } catch {
    return false;
  }
}

export async function checkLanding(port: number, services: VerifyService[], timeoutMs = 10_000): Promise<string> {
  const page = await httpGet(port, '/', timeoutMs).catch((e: Error) => fail(`GET / failed: ${e.message}`));
  const problem = landingProblem(page);
  if (problem) fail(problem);
  const routes: Array<{ service: string; route: Route }> = services.flatMap((s) => s.routes.map((route) => ({ service: s.name, route })));
  const missing = routes.filter((r) => !listsRoute(page.body, r.route.path));
  if (missing.length) {
    fail(
      `the landing page (GET /, ${page.body.length} bytes) does not list ${missing.map((m) => `${m.route.path} (service ${m.service})`).join(', ')}: it must name every route of every service`,
    );
  }
  const other = await httpGet(port, UNKNOWN_PATH, timeoutMs).catch((e: Error) => fail(`GET ${UNKNOWN_PATH} failed: ${e.message}`));
  const location = other.headers.location ?? '';
  if (other.status !== 302 || !toLandingPage(location, port)) {
    fail(
      `GET ${UNKNOWN_PATH} answered ${describeAnswer(other)}${location ? ` → ${JSON.stringify(location)}` : ''}, expected 302 to / (a path no route matches goes to the landing page, by a relative redirect)`,
    );
  }
  return `GET / → 200 text/html listing all ${routes.length} route(s) (${routes.map((r) => r.route.path).join(', ')}); GET ${UNKNOWN_PATH} → 302 ${location}`;
}
