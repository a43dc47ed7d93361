/**
 * Running host tools (mmdebstrap, mkfs.ext4, qemu-img, ssh…) through execa: argv arrays only, a bound on
 * every call, output appended to a log file, and failures turned into RunErrors that say what to look at.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { RunError } from '../config/errors.js';
import { prop } from '../config/guards.js';
import { ARCHES } from './arch.js';

/** Debian package that provides each tool (for "not installed" errors). */
export const TOOL_PACKAGES: Record<string, string> = {
  mmdebstrap: 'mmdebstrap',
  'mkfs.ext4': 'e2fsprogs',
  debugfs: 'e2fsprogs',
  'qemu-img': 'qemu-utils',
  // the QEMU system binaries' packages are arch.ts's
  ...Object.fromEntries(Object.values(ARCHES).map((a) => [a.qemuBinary, a.qemuPackage])),
  genisoimage: 'genisoimage',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  'ansible-playbook': 'ansible',
  tar: 'tar',
};

export interface ToolOptions {
  /** What the step is, for messages ("mmdebstrap (arm64 rootfs)"). */
  what: string;
  timeoutMs: number;
  cwd?: string;
  env?: Record<string, string>;
  inputFile?: string;
  /** stdout goes to this file (binary safe) instead of being captured. */
  stdoutFile?: string;
  /** stdout and stderr are appended here as they come. */
  logFile?: string;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** Exit codes that are not failures (default [0]). */
  okCodes?: number[];
}

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  output: string;
}

function tail(text: string, lines = 15): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export async function runTool(cmd: string, args: string[], o: ToolOptions): Promise<ToolResult> {
  const { execa } = await import('execa');
  const proc = execa(cmd, args, {
    ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.inputFile ? { inputFile: o.inputFile } : { stdin: 'ignore' as const }),
    ...(o.stdoutFile ? { stdout: { file: o.stdoutFile } } : {}),
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    timeout: o.timeoutMs,
    forceKillAfterDelay: 5000,
    reject: false,
    all: true,
    maxBuffer: 256 * 1024 * 1024,
  });
  let partial = '';
  proc.all?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (o.logFile) appendFileSync(o.logFile, text);
    if (o.onLine) {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) o.onLine(l.replace(/\r$/, ''));
    }
  });
  const r = await proc;
  if (o.onLine && partial) o.onLine(partial);
  const output = typeof r.all === 'string' ? r.all : '';
  const result: ToolResult = {
    exitCode: r.exitCode ?? -1,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    output,
  };
  const logHint = o.logFile ? ` (log: ${o.logFile})` : '';
  // execa's failure (reject: false) carries the spawn error's code and message
  if (prop(r, 'code') === 'ENOENT' || /ENOENT/.test(String(prop(r, 'originalMessage') ?? ''))) {
    const pkg = TOOL_PACKAGES[cmd];
    throw new RunError(`${o.what}: ${cmd} is not installed`, { fix: pkg ? `apt-get install ${pkg}` : `install ${cmd}` });
  }
  if (r.isCanceled) throw new RunError(`${o.what}: cancelled`);
  if (r.timedOut)
    throw new RunError(
      `${o.what} did not finish within ${o.timeoutMs < 10_000 ? (o.timeoutMs / 1000).toFixed(1) : Math.round(o.timeoutMs / 1000)} s and was stopped${logHint}`,
      { fix: output ? `last output:\n${tail(output)}` : undefined },
    );
  if (!(o.okCodes ?? [0]).includes(result.exitCode)) {
    throw new RunError(`${o.what} failed (exit ${result.exitCode})${logHint}${output.trim() ? `:\n${tail(output)}` : ''}`);
  }
  return result;
}

/** The path of `cmd` on PATH, or undefined. */
export function onPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}
