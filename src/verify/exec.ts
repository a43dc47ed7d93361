/**
 * What checks need from a running container, as plain functions (so that unit tests can pass fakes): run a
 * command (argv, never a shell string built from data) and read the logs.
 */
import type { ExecOptions, ExecResult, TestContainer } from './container.js';

export type Exec = (cmd: string[], opts?: ExecOptions) => Promise<ExecResult>;

export interface Inside {
  exec: Exec;
  logs: () => Promise<string>;
}

export function inside(c: TestContainer): Inside {
  return { exec: (cmd, opts) => c.exec(cmd, opts), logs: () => c.logs() };
}

/** One process of the container, read from /proc. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  /** `readlink /proc/PID/root` ('' when unreadable). */
  root: string;
  comm: string;
  args: string;
}

/**
 * The process list in one python3 process (every idekube image has it: supervisord is Python). Under arm64
 * emulation each process started costs ~50 ms idle and several times that under load; the shell loop below
 * starts five per process, the whole list 3.2 s idle vs 0.55 s here (measured on the fixture's arm64 image).
 * Same output as the loop: pid, ppid, uid, root, comm, args, tab-separated.
 */
export const PROC_PYTHON = [
  'import os, sys',
  'out = []',
  'def rd(path):',
  '    try:',
  "        with open(path, 'rb') as f: return f.read()",
  '    except OSError: return None',
  "for pid in sorted((p for p in os.listdir('/proc') if p.isdigit()), key=int):",
  "    d = '/proc/' + pid",
  "    st = rd(d + '/status')",
  '    if st is None: continue',
  "    f = dict(l.split(b':', 1) for l in st.splitlines() if b':' in l)",
  "    if b'Uid' not in f: continue",
  "    try: root = os.readlink(d.encode() + b'/root')",
  "    except OSError: root = b''",
  "    comm = (rd(d + '/comm') or b'').rstrip(b'\\n').replace(b'\\t', b' ')",
  "    args = (rd(d + '/cmdline') or b'').translate(bytes.maketrans(b'\\0\\t\\n', b'   '))",
  "    fields = [pid.encode(), f.get(b'PPid', b'').strip(), f[b'Uid'].split()[0], root, comm, args]",
  "    out.append(b'\\t'.join(fields) + b'\\n')",
  // written at once: a failure half-way leaves no partial list before the shell loop's
  "sys.stdout.buffer.write(b''.join(out))",
].join('\n');

/**
 * Lists processes from /proc without ps (minimal images lack procps). Fixed scripts; nothing from the outside
 * is spliced into them. python3 when the image has it, else a shell loop (also the fallback when python3 fails).
 */
export const PROC_LOOP = [
  'for d in /proc/[0-9]*; do',
  '  [ -r "$d/status" ] || continue',
  '  pid=${d#/proc/}',
  '  ppid=$(sed -n \'s/^PPid:[[:space:]]*//p\' "$d/status" 2>/dev/null)',
  '  uid=$(sed -n \'s/^Uid:[[:space:]]*\\([0-9]*\\).*/\\1/p\' "$d/status" 2>/dev/null)',
  '  root=$(readlink "$d/root" 2>/dev/null)',
  '  comm=$(cat "$d/comm" 2>/dev/null)',
  "  args=$(tr '\\000\\t\\n' '   ' < \"$d/cmdline\" 2>/dev/null)",
  '  [ -n "$uid" ] || continue',
  '  printf \'%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n\' "$pid" "$ppid" "$uid" "$root" "$comm" "$args"',
  'done',
].join('\n');

/** argv: the Python program travels as `$1`, so neither script has to quote the other. */
export const PROC_COMMAND: readonly string[] = [
  'sh',
  '-c',
  `if command -v python3 >/dev/null 2>&1 && python3 -c "$1"; then exit 0; fi\n${PROC_LOOP}`,
  'sh',
  PROC_PYTHON,
];

export function parseProcesses(text: string): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 6 || !/^\d+$/.test(f[0]!)) continue;
    out.push({ pid: Number(f[0]), ppid: Number(f[1]), uid: Number(f[2]), root: f[3]!, comm: f[4]!, args: f.slice(5).join(' ').trim() });
  }
  return out;
}

export async function processes(exec: Exec, user?: string): Promise<ProcessInfo[]> {
  const r = await exec([...PROC_COMMAND], { timeoutMs: 60_000, ...(user ? { user } : {}) });
  if (r.code !== 0) throw new Error(`cannot list processes: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseProcesses(r.stdout);
}

/** `pid` and every process below it. */
export function subtree(all: ProcessInfo[], pid: number): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  const todo = [pid];
  const seen = new Set<number>();
  while (todo.length) {
    const p = todo.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const me = all.find((x) => x.pid === p);
    if (me) out.push(me);
    for (const c of all) if (c.ppid === p) todo.push(c.pid);
  }
  return out;
}

/** Short description of a process for messages. */
export function describeProcess(p: ProcessInfo): string {
  const args = p.args.length > 70 ? `${p.args.slice(0, 67)}…` : p.args;
  return `pid ${p.pid} (${args || p.comm})`;
}
