/** check: jupyter — the Jupyter page and its REST API answer through nginx under the service's prefix. */
import { describeAnswer, getFollowing, httpGet, upstreamDown } from '../http.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { mainRoute } from './coder.js';
import { messageOf } from '../../config/errors.js';
import { isRecord, prop } from '../../config/guards.js';

export async function checkJupyter(port: number, service: VerifyService, timeoutMs = 15_000): Promise<string> {
  const route = mainRoute(service);
  const base = route.path.endsWith('/') ? route.path : `${route.path}/`;
  let page;
  try {
    page = await getFollowing(port, base, timeoutMs);
  } catch (e) {
    fail(`GET ${base} failed: ${messageOf(e)}`);
  }
  const a = page.answer;
  if (upstreamDown(a.status)) fail(`GET ${page.path} answered ${describeAnswer(a)}: nginx cannot reach Jupyter on 127.0.0.1:${route.port}`);
  if (a.status !== 200)
    fail(
      `GET ${base} answered ${describeAnswer(a)}${page.hops.length ? ` after ${page.hops.join(', ')}` : ''}, expected the Jupyter page (200)`,
    );
  if (!/jupyter/i.test(a.body)) fail(`GET ${page.path} answered 200 but not with a Jupyter page`);
  if (!page.path.startsWith(base)) fail(`GET ${base} ended at ${page.path}, outside ${base}: Jupyter's base URL is not ${base}`);
  // JupyterLab / Jupyter Server and the classic Notebook both serve api/status; api/ gives the version.
  const statusPath = `${base}api/status`;
  let st;
  try {
    st = await httpGet(port, statusPath, timeoutMs);
  } catch (e) {
    fail(`GET ${statusPath} failed: ${messageOf(e)}`);
  }
  if (st.status !== 200)
    fail(`GET ${statusPath} answered ${describeAnswer(st)}, expected 200 with JSON: Jupyter's API is not reachable under ${base}`);
  let status: unknown;
  try {
    status = JSON.parse(st.body);
  } catch {
    fail(`GET ${statusPath} answered 200 but not with JSON (${JSON.stringify(st.body.slice(0, 60))})`);
  }
  if (!isRecord(status) || !('started' in status || 'kernels' in status || 'last_activity' in status)) {
    fail(`GET ${statusPath} answered JSON without Jupyter's status fields (started, kernels, last_activity)`);
  }
  let version = '';
  try {
    const v = await httpGet(port, `${base}api`, timeoutMs);
    version = String(prop(JSON.parse(v.body), 'version') ?? '');
  } catch {
    /* the version is only for the message */
  }
  return `GET ${page.path} → 200; ${statusPath} → 200 JSON${version ? ` (Jupyter ${version})` : ''}`;
}
