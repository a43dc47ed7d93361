/**
 * SSH to a VM through its loopback forward. The remote side is a shell by nature (ssh joins its arguments
 * with spaces), so remote commands are restricted to plain words: anything with a space, quote or shell
 * character is refused here, and data travels in files (uploaded tarballs), never in command strings.
 */
import { messageOf, RunError } from '../config/errors.js';
import { runTool, type ToolOptions, type ToolResult } from './exec.js';
import { describeExit, type Vm } from './vm.js';

export interface SshTarget {
  port: number;
  user: string;
  keyFile: string;
  /** Per-build known_hosts: the first host key is pinned for the rest of the build. */
  knownHosts: string;
}

const WORD = /^[A-Za-z0-9_./=:@%+-]+$/;

export function sshArgv(t: SshTarget, remote: string[], opts: { connectTimeoutS?: number } = {}): string[] {
  for (const w of remote) {
    if (!WORD.test(w)) throw new RunError(`internal: refusing to send ${JSON.stringify(w)} to a remote shell`);
  }
  return [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'PasswordAuthentication=no',
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    `UserKnownHostsFile=${t.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    `ConnectTimeout=${opts.connectTimeoutS ?? 10}`,
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=8',
    '-o',
    'LogLevel=ERROR',
    '-i',
    t.keyFile,
    '-p',
    String(t.port),
    `${t.user}@127.0.0.1`,
    '--',
    ...remote,
  ];
}

export async function sshRun(t: SshTarget, remote: string[], o: ToolOptions & { connectTimeoutS?: number }): Promise<ToolResult> {
  return runTool('ssh', sshArgv(t, remote, o.connectTimeoutS !== undefined ? { connectTimeoutS: o.connectTimeoutS } : {}), o);
}

/**
 * Polls until `ssh … true` succeeds, at most `timeoutMs`. Fails early when the VM exits (an unbootable disk,
 * a kernel panic) and with a clear error when the bound passes; the caller then stops the VM.
 */
export async function waitForSsh(
  vm: Vm,
  t: SshTarget,
  timeoutMs: number,
  opts: { signal?: AbortSignal; onAttempt?: (n: number) => void } = {},
): Promise<number> {
  const t0 = Date.now();
  let attempt = 0;
  let lastError = '';
  while (true) {
    if (opts.signal?.aborted) throw new RunError('cancelled while waiting for SSH');
    if (!vm.running)
      throw new RunError(
        `the VM stopped before SSH answered (after ${((Date.now() - t0) / 1000).toFixed(0)} s): the disk did not boot\n${describeExit(vm)}`,
        { fix: 'read the serial console above (and the log folder); a bad disk or kernel is the usual cause' },
      );
    const left = timeoutMs - (Date.now() - t0);
    if (left <= 0) {
      throw new RunError(
        `the guest did not open SSH within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (last attempt: ${lastError})` : ''}\n${describeExit(vm)}`,
        {
          fix: 'read the serial console above; raise the bound with --ssh-timeout if the machine is just slow',
        },
      );
    }
    attempt++;
    opts.onAttempt?.(attempt);
    try {
      await sshRun(t, ['true'], {
        what: 'ssh probe',
        timeoutMs: Math.min(20_000, Math.max(left, 1000)),
        connectTimeoutS: 5,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return Date.now() - t0;
    } catch (e) {
      lastError = messageOf(e).split('\n').slice(-1)[0] ?? '';
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(0, timeoutMs - (Date.now() - t0)))));
  }
}
