/**
 * The services run as the user they declare: a supervisord program with `user=` runs (with everything it
 * starts) as that user, one without runs as root. Owners are read from /proc inside the container.
 */
import { describeProcess, processes, subtree, type Exec } from '../exec.js';
import { fail } from '../types.js';
import { programStates } from './programs.js';

/** `[program:NAME]` → its `user=` (undefined: root), from supervisord configuration text. */
export function declaredUsers(conf: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  let program: string | undefined;
  for (const raw of conf.split('\n')) {
    const line = raw.replace(/\s[;#].*$/, '').trim();
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      const m = /^program:(.+)$/.exec(sec[1]!.trim());
      program = m ? m[1]!.trim() : undefined;
      if (program && !out.has(program)) out.set(program, undefined);
      continue;
    }
    const kv = /^user\s*=\s*(.+)$/.exec(line);
    if (kv && program) out.set(program, kv[1]!.trim());
  }
  return out;
}

export const CONF_SCRIPT = 'cat /etc/supervisor/supervisord.conf /etc/supervisor/conf.d/*.conf 2>/dev/null';

export async function checkOwners(exec: Exec, passwd: (name: string) => Promise<number | undefined>): Promise<string> {
  const conf = await exec(['sh', '-c', CONF_SCRIPT], { timeoutMs: 15_000 });
  const users = declaredUsers(conf.stdout);
  if (!users.size) fail('no supervisord [program:…] found in /etc/supervisor: cannot tell which user each service should run as');
  const states = await programStates(exec);
  const procs = await processes(exec);
  const problems: string[] = [];
  const ok: string[] = [];
  for (const [name, user] of users) {
    const st = states.find((s) => s.name === name);
    if (!st?.pid) {
      problems.push(`${name} is not running (${st?.state ?? 'unknown to supervisorctl'}), so its user cannot be checked`);
      continue;
    }
    const wantName = user ?? 'root';
    const want = user ? await passwd(user) : 0;
    if (want === undefined) {
      problems.push(`${name} declares user=${user}, which does not exist in the image`);
      continue;
    }
    // a program that declares a user: it and everything it starts; root programs: the program itself
    // (nginx's workers, sshd's sessions legitimately change user)
    const tree = user ? subtree(procs, st.pid) : procs.filter((p) => p.pid === st.pid);
    const wrong = tree.filter((p) => p.uid !== want);
    if (wrong.length) {
      problems.push(
        `${name} should run as ${wantName} (uid ${want}) but ${wrong
          .slice(0, 3)
          .map((p) => `${describeProcess(p)} runs as uid ${p.uid}${p.uid === 0 ? ' (root)' : ''}`)
          .join(', ')}`,
      );
    } else {
      ok.push(`${name} as ${wantName}${user ? ` (${tree.length} process${tree.length === 1 ? '' : 'es'})` : ''}`);
    }
  }
  if (problems.length) fail(problems.join('; '));
  return ok.join(', ');
}
