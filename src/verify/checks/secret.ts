/**
 * The access token stays a secret: after it was used (in the URL too), it appears neither in the container log,
 * nor on any process's command line, nor in nginx's log files. Read as root inside the container; the token is
 * looked for here, never passed into the container (it would be on the command line of the search).
 */
import type { Exec } from '../exec.js';
import { fail } from '../types.js';
import { redact } from './auth.js';

/** One line per process: `PID<TAB>argv joined by spaces`. Fixed script. */
export const CMDLINE_SCRIPT =
  'for d in /proc/[0-9]*; do [ -r "$d/cmdline" ] || continue; printf "%s\\t" "${d#/proc/}"; tr "\\000\\n" "  " < "$d/cmdline" 2>/dev/null; echo; done';
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
  const procs = await exec(['sh', '-c', CMDLINE_SCRIPT], { timeoutMs: 20_000 });
  if (procs.code !== 0 && !procs.stdout)
    fail(`cannot read the command lines in the container: ${procs.stderr.trim() || `exit ${procs.code}`}`);
  const onLine = findToken(procs.stdout, token);
  if (onLine) {
    const [pid, args] = onLine.split('\t');
    fail(`the token is on the command line of pid ${pid}: ${shown(args ?? '')}`);
  }
  const nginx = await exec(['sh', '-c', NGINX_LOGS_SCRIPT], { timeoutMs: 20_000 });
  const inNginx = findToken(nginx.stdout, token);
  if (inNginx) fail(`the token appears in nginx's log: ${shown(inNginx)} (a URL that carries it must not be logged)`);
  const n = procs.stdout.split('\n').filter((l) => /^\d+\t/.test(l)).length;
  return `after the token was used in a URL, a cookie and a header: not in the container log, not on any of ${n} command lines, not in /var/log/nginx`;
}
