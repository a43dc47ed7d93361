/**
 * The access token stays a secret: after it was used (in the URL too), it appears neither in the container log,
 * nor on any process's command line, nor in nginx's log files. Read as root inside the container; the token is
 * looked for here, never passed into the container (it would be on the command line of the search).
 */
import { messageOf } from '../../config/errors.js';
import { type Exec, processes } from '../exec.js';
import { fail } from '../types.js';
import { redact } from './auth.js';

/** nginx's own log files (Debian's default access and error logs). Fixed script. */
export const NGINX_LOGS_SCRIPT = 'for f in /var/log/nginx/*.log; do [ -f "$f" ] && sed "s|^|$f: |" "$f"; done; exit 0';

/** The token as it may have been written: as sent, or percent-encoded. */
export function tokenForms(token: string): string[] {
  return [...new Set([token, encodeURIComponent(token)])];
}

export function findToken(text: string, token: string): string | undefined {
  const forms = tokenForms(token);
  return text.split('\n').find((l) => forms.some((f) => l.includes(f)));
}

export async function checkSecret(token: string, logs: () => Promise<string>, exec: Exec): Promise<string> {
  const shown = (line: string) => JSON.stringify(redact(line.trim(), token).slice(0, 140));
  const inLog = findToken(await logs(), token);
  if (inLog) fail(`the token appears in the container log: ${shown(inLog)}`);
  const procs = await processes(exec).catch((e: unknown) => fail(`cannot read the command lines in the container: ${messageOf(e)}`));
  const onLine = procs.find((p) => findToken(p.args, token));
  if (onLine) fail(`the token is on the command line of pid ${onLine.pid}: ${shown(onLine.args)}`);
  const nginx = await exec(['sh', '-c', NGINX_LOGS_SCRIPT], { timeoutMs: 20_000 });
  const inNginx = findToken(nginx.stdout, token);
  if (inNginx) fail(`the token appears in nginx's log: ${shown(inNginx)} (a URL that carries it must not be logged)`);
  return `after the token was used in a URL, a cookie and a header: not in the container log, not on any of ${procs.length} command lines, not in /var/log/nginx`;
}
