/** nginx on port 80: it answers, and `/` is the landing page (200, text/html) nginx serves itself. */
import { describeAnswer, httpGet, type HttpAnswer } from '../http.js';
import { fail } from '../types.js';
import { messageOf } from '../../config/errors.js';

/** Why `/` is not the landing page, in words (undefined when it is). */
export function landingProblem(a: HttpAnswer): string | undefined {
  if (a.status !== 200) {
    const hint =
      a.status === 404
        ? ': no landing page (/usr/share/idekube/www/index.html missing?)'
        : a.status === 401
          ? ': it asks for the access token, yet none was set'
          : '';
    return `GET / answered ${describeAnswer(a)}, expected 200 with the landing page (text/html)${hint}`;
  }
  const type = a.headers['content-type'] ?? '';
  if (!/^text\/html\b/i.test(type))
    return `GET / answered 200 with ${type ? `Content-Type ${type}` : 'no Content-Type'}, expected text/html (the landing page)`;
  return undefined;
}

export async function checkNginx(port: number, timeoutMs = 10_000): Promise<string> {
  let a;
  try {
    a = await httpGet(port, '/', timeoutMs);
  } catch (e) {
    fail(`nothing answers HTTP on port 80 (127.0.0.1:${port}): ${messageOf(e)}; is nginx running and listening on port 80?`);
  }
  const server = a.headers.server ?? '';
  const problem = landingProblem(a);
  if (problem) fail(problem);
  if (!/nginx/i.test(server))
    fail(`GET / answered 200 but not from nginx (Server: ${server || 'none'}): another server listens on port 80`);
  return `port 80 answers, GET / → 200 text/html (${server})`;
}
