/**
 * check: vnc — the noVNC client is served under the service's prefix, and its WebSocket route upgrades and
 * carries the VNC server's RFB greeting (`RFB 003.00x`).
 */
import type { Route } from '../../config/model.js';
import { describeAnswer, httpGet, upstreamDown } from '../http.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { describeFailedUpgrade, printable, wsProbe } from '../websocket.js';
import { messageOf } from '../../config/errors.js';

export function vncRoutes(service: VerifyService): { page: Route; socket: Route } {
  const page = service.routes.find((r) => !r.websocket) ?? service.routes.find((r) => !r.exact);
  const socket = service.routes.find((r) => r.websocket);
  if (!page) fail(`service ${service.name} declares no page route for the noVNC client`);
  if (!socket) fail(`service ${service.name} declares no WebSocket route for the VNC connection`);
  return { page, socket };
}

export const RFB_GREETING = /^RFB 003\.00\d\n$/;

export async function checkVnc(port: number, service: VerifyService, timeoutMs = 15_000): Promise<string> {
  const { page, socket } = vncRoutes(service);
  const base = page.path.endsWith('/') ? page.path : `${page.path}/`;
  let client;
  try {
    client = await httpGet(port, `${base}vnc.html`, timeoutMs);
  } catch (e) {
    fail(`GET ${base}vnc.html failed: ${messageOf(e)}`);
  }
  if (upstreamDown(client.status))
    fail(`GET ${base}vnc.html answered ${describeAnswer(client)}: nginx cannot reach noVNC on 127.0.0.1:${page.port}`);
  if (client.status !== 200 || !/noVNC/.test(client.body))
    fail(`GET ${base}vnc.html answered ${describeAnswer(client)}, expected the noVNC client`);
  const index = await httpGet(port, base, timeoutMs).catch((e: Error) => fail(`GET ${base} failed: ${e.message}`));
  if (index.status !== 200) fail(`GET ${base} answered ${describeAnswer(index)}, expected 200 (the page that opens the noVNC client)`);

  const ws = await wsProbe(port, socket.path, { protocols: ['binary'], bytes: 12, timeoutMs });
  const why = describeFailedUpgrade(ws, socket.path);
  if (why) fail(why);
  const greeting = ws.first.subarray(0, 12).toString('latin1');
  if (!ws.first.length) {
    fail(
      `WebSocket ${socket.path} opened but ${ws.closed ? 'closed' : 'stayed silent'} before the RFB greeting: the proxy could not reach the VNC server (is it running on its port?)`,
    );
  }
  if (!RFB_GREETING.test(greeting))
    fail(`WebSocket ${socket.path} carried ${printable(ws.first)} instead of the RFB greeting "RFB 003.00x": not a VNC server behind it`);
  return `${base}vnc.html is the noVNC client; ${socket.path} → 101${ws.protocol ? ` (${ws.protocol})` : ''}, greeting ${JSON.stringify(greeting.trim())}`;
}
