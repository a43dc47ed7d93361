/** IDEKUBE_PREFERED_SHELL (the upstream's spelling) sets the user's login shell. */
import type { Exec } from '../exec.js';
import { fail, skip } from '../types.js';
import type { ImageFacts } from '../types.js';

/** A login shell other than the current one, from the image's /etc/shells (zsh first). */
export function pickShell(facts: ImageFacts): string | undefined {
  const current = facts.user?.shell;
  const prefs = [/\/zsh$/, /\/bash$/, /\/dash$/, /\/sh$/];
  for (const re of prefs) {
    const s = facts.shells.find((x) => re.test(x) && x !== current && !(current && x.endsWith(current.replace(/^\/usr/, ''))));
    if (s) return s;
  }
  return facts.shells.find((x) => x !== current && !/rbash|nologin|false/.test(x));
}

export async function checkShell(exec: Exec, facts: ImageFacts, wanted: string | undefined): Promise<string> {
  if (!facts.user) skip(`the image has no user ${facts.env.USERNAME || 'idekube'} (USERNAME)`);
  if (!wanted) skip(`/etc/shells lists no login shell other than ${facts.user.shell}`);
  const r = await exec(['getent', 'passwd', facts.user.name], { timeoutMs: 15_000 });
  const shell = r.stdout.trim().split(':')[6];
  if (shell !== wanted) fail(`login shell of ${facts.user.name} is ${shell ?? '(unknown)'}, expected ${wanted} (IDEKUBE_PREFERED_SHELL)`);
  return `IDEKUBE_PREFERED_SHELL=${wanted}: login shell of ${facts.user.name} is ${shell} (was ${facts.user.shell})`;
}
