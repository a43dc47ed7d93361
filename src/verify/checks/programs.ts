/** Every supervisord program is RUNNING (read with `supervisorctl status` inside the container). */
import type { Exec } from '../exec.js';
import { fail } from '../types.js';
import { poll } from '../wait.js';

export interface ProgramState {
  name: string;
  state: string;
  pid?: number;
  detail: string;
}

/** Parses `supervisorctl status`: `name   RUNNING   pid 12, uptime 0:00:05`. */
export function parseStatus(text: string): ProgramState[] {
  const out: ProgramState[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+([A-Z]+)\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const pid = /pid (\d+)/.exec(m[3]!);
    out.push({ name: m[1]!, state: m[2]!, ...(pid ? { pid: Number(pid[1]) } : {}), detail: m[3]!.trim() });
  }
  return out;
}

export async function programStates(exec: Exec): Promise<ProgramState[]> {
  // exits non-zero when a program is not running; the text is what counts
  const r = await exec(['supervisorctl', 'status'], { timeoutMs: 15_000 });
  const states = parseStatus(r.stdout);
  if (!states.length)
    throw new Error(`supervisorctl status gave nothing: ${(r.stderr || r.stdout).trim().slice(0, 200) || `exit ${r.code}`}`);
  return states;
}

const SETTLING = new Set(['STARTING', 'BACKOFF']);

/**
 * Lines of the container log worth showing next to failed programs: not supervisord's own lines, those naming a
 * failed program first (its own error), then the last others.
 */
export function interestingLogLines(logs: string, names: string[] = [], max = 4): string[] {
  const lines = logs
    .split('\n')
    .filter(
      (l) =>
        l.trim() && !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|CRIT|WARN) /.test(l) && !/^\[idekube-init\] (?!.*(ERROR|WARNING))/.test(l),
    );
  const named = [...new Set(lines.filter((l) => names.some((n) => l.toLowerCase().includes(n.toLowerCase()))))];
  return (named.length ? named : lines).slice(-max);
}

export async function checkPrograms(exec: Exec, logs: () => Promise<string>, timeoutMs: number): Promise<string> {
  // wait (bounded) until no program is still starting
  const { value, lastError } = await poll(
    async () => {
      const s = await programStates(exec);
      return s.some((p) => SETTLING.has(p.state)) ? undefined : s;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  const states =
    value ?? (await programStates(exec).catch((e: Error) => fail(`cannot read supervisord's programs: ${lastError ?? e.message}`)));
  const bad = states.filter((p) => p.state !== 'RUNNING');
  if (bad.length) {
    const tail = interestingLogLines(
      await logs().catch(() => ''),
      bad.map((p) => p.name),
    );
    fail(
      `${bad.map((p) => `${p.name} is ${p.state}${p.detail ? ` (${p.detail})` : ''}`).join('; ')}${tail.length ? `; log: ${tail.join(' | ')}` : ''}`,
    );
  }
  return `${states.length} programs RUNNING: ${states.map((p) => p.name).join(', ')}`;
}
