/** check: coder — code-server's page and a WebSocket upgrade, both through nginx. */
import { randomUUID } from 'node:crypto';
import type { Route } from '../../config/model.js';
import { describeAnswer, getFollowing, upstreamDown } from '../http.js';
import { fail } from '../types.js';
import { describeFailedUpgrade, wsProbe } from '../websocket.js';
import type { VerifyService } from '../types.js';
import { messageOf } from '../../config/errors.js';

export function mainRoute(service: VerifyService): Route {
  const r = service.routes.find((x) => !x.exact) ?? service.routes[0];
  if (!r) fail(`service ${service.name} declares no route`);
  return r;
}

export async function checkCoder(port: number, service: VerifyService, timeoutMs = 15_000): Promise<string> {
  const route = mainRoute(service);
  const base = route.path.endsWith('/') ? route.path : `${route.path}/`;
  let page;
  try {
    page = await getFollowing(port, base, timeoutMs);
  } catch (e) {
    fail(`GET ${base} failed: ${messageOf(e)}`);
  }
  const a = page.answer;
  if (upstreamDown(a.status))
    fail(`GET ${page.path} answered ${describeAnswer(a)}: nginx cannot reach code-server on 127.0.0.1:${route.port}`);
  if (a.status !== 200) fail(`GET ${page.path} answered ${describeAnswer(a)}, expected code-server's page (200)`);
  if (!/code-server|vscode|workbench/i.test(a.body))
    fail(`GET ${page.path} answered 200 but the page is not code-server's (no code-server/workbench markers in ${a.body.length} bytes)`);
  // The VS Code client opens its management connection as a WebSocket on the base path.
  const wsPath = `${base}?reconnectionToken=${randomUUID()}&reconnection=false&skipWebSocketFrames=false`;
  const ws = await wsProbe(port, wsPath, { bytes: 0, timeoutMs });
  const why = describeFailedUpgrade(ws, base);
  if (why) fail(`${why} (code-server's editor needs it: check the upgrade headers of ${route.path} in nginx)`);
  return `GET ${page.path} → 200 (code-server page); WebSocket upgrade on ${base} → 101`;
}
