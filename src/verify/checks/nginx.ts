/** nginx on port 80: it answers, and nothing is served at the root (`/` gives 404). */
import { describeAnswer, httpGet } from '../http.js';
import { fail } from '../types.js';

export async function checkNginx(port: number, timeoutMs = 10_000): Promise<string> {
  let a;
  try {
    a = await httpGet(port, '/', timeoutMs);
  } catch (e) {
    fail(`nothing answers HTTP on port 80 (127.0.0.1:${port}): ${(e as Error).message}; is nginx running and listening on port 80?`);
  }
  const server = a.headers.server ?? '';
  if (a.status !== 404) fail(`GET / answered ${describeAnswer(a)}, expected 404: something is served at the root`);
  if (!/nginx/i.test(server)) fail(`GET / answered 404 but not from nginx (Server: ${server || 'none'}): another server listens on port 80`);
  return `port 80 answers, GET / → 404 (${server})`;
}
