/** A prefix route (`/vnc/`) also answers its slash-less form (`/vnc`) with a redirect to the slash form. */
import type { Route } from '../../config/model.js';
import { describeAnswer, httpGet } from '../http.js';
import { fail } from '../types.js';
import { messageOf } from '../../config/errors.js';

/** Routes that get a redirect: prefix routes ending in `/` (not exact, not `/` itself). */
export function redirectingRoutes(routes: Route[]): Route[] {
  return routes.filter((r) => r.path.endsWith('/') && !r.exact && r.path.replace(/\/+$/, '') !== '');
}

export async function checkRedirect(port: number, route: Route, timeoutMs = 10_000): Promise<string> {
  const from = route.path.replace(/\/+$/, '');
  let a;
  try {
    a = await httpGet(port, from, timeoutMs);
  } catch (e) {
    fail(`GET ${from} failed: ${messageOf(e)}`);
  }
  if (![301, 302, 307, 308].includes(a.status)) fail(`GET ${from} answered ${describeAnswer(a)}, expected a redirect to ${route.path}`);
  const location = a.headers.location ?? '';
  let target: string;
  try {
    target = new URL(location, `http://127.0.0.1:${port}${from}`).pathname;
  } catch {
    fail(`GET ${from} redirects to ${JSON.stringify(location)}, which is not a URL`);
  }
  if (target !== route.path) fail(`GET ${from} redirects to ${JSON.stringify(location)}, expected ${route.path}`);
  if (/^https?:\/\//i.test(location) && !location.startsWith(`http://127.0.0.1:${port}/`)) {
    fail(`GET ${from} redirects to the absolute URL ${location}, which leaves the host and port the client used (use a relative redirect)`);
  }
  return `GET ${from} → ${a.status} ${location}`;
}
