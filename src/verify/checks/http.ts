/** check: http — each route of the service answers through nginx (a page, or a WebSocket upgrade). */
import type { Route } from '../../config/model.js';
import { describeAnswer, httpGet, upstreamDown } from '../http.js';
import { fail } from '../types.js';
import { describeFailedUpgrade, wsProbe } from '../websocket.js';
import { messageOf } from '../../config/errors.js';

/** The path a plain GET probes for a route (`/ssh` exact → `/ssh`, prefix `/web/` → `/web/`). */
export function probePath(route: Route): string {
  return route.path;
}

export async function checkRoute(port: number, route: Route, timeoutMs = 10_000): Promise<string> {
  const path = probePath(route);
  if (route.websocket && route.exact) {
    const p = await wsProbe(port, path, { bytes: 0, timeoutMs });
    const why = describeFailedUpgrade(p, path);
    if (why) fail(why);
    return `${path}: WebSocket upgrade → 101`;
  }
  let a;
  try {
    a = await httpGet(port, path, timeoutMs);
  } catch (e) {
    fail(`GET ${path} failed: ${messageOf(e)}`);
  }
  if (upstreamDown(a.status))
    fail(
      `GET ${path} answered ${describeAnswer(a)}: nginx cannot reach the service on 127.0.0.1:${route.port} (not running, or listening on another port)`,
    );
  if (a.status >= 500) fail(`GET ${path} answered ${describeAnswer(a)}: the service failed`);
  return `GET ${path} → ${a.status} (127.0.0.1:${route.port})`;
}
