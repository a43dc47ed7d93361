/**
 * Booting a disk for a session (a build's provisioning, `idekube qemu run`): free loopback ports for SSH (22)
 * and HTTP (80), QEMU started with its PID tracked and the serial console in a file, a bounded wait for SSH,
 * and a clean power-off (the guest shuts itself down; QEMU exits by itself thanks to -no-reboot).
 */
import { join } from 'node:path';
import { messageOf, RunError } from '../config/errors.js';
import type { Arch } from '../config/platform.js';
import { freePorts } from './ports.js';
import { sshRun, waitForSsh, type SshTarget } from './ssh.js';
import { describeExit, lastLines, poweredOff, startVm, vmStarted, type Accel, type BootSpec, type Vm } from './vm.js';

export interface Session {
  vm: Vm;
  sshPort: number;
  webPort: number;
  serialLog: string;
}

export interface BootRequest {
  arch: Arch;
  accel: Accel;
  memory: string;
  cpus: number;
  disk: string;
  boot: BootSpec;
  seed?: string;
  snapshot?: boolean;
  logDir: string;
  /** Fixed host ports (run --ssh-port/--web-port); otherwise free ones are picked. */
  sshPort?: number;
  webPort?: number;
  inheritStdio?: boolean;
}

const BIND_FAILURE = /could not set up host forwarding rule|hostfwd|Address already in use/i;

/** Starts the VM; retries with new ports when QEMU loses a race for a picked port. */
export async function bootVm(r: BootRequest): Promise<Session> {
  const serialLog = join(r.logDir, 'serial.log');
  const qemuLog = join(r.logDir, 'qemu.log');
  for (let attempt = 1; ; attempt++) {
    const picked = await freePorts(2);
    const sshPort = r.sshPort ?? picked[0]!;
    const webPort = r.webPort ?? picked[1]!;
    const vm = startVm(
      {
        arch: r.arch,
        accel: r.accel,
        memory: r.memory,
        cpus: r.cpus,
        disk: r.disk,
        ...(r.snapshot ? { snapshot: true } : {}),
        boot: r.boot,
        ...(r.seed ? { seed: r.seed } : {}),
        forwards: [
          { hostPort: sshPort, guestPort: 22 },
          { hostPort: webPort, guestPort: 80 },
        ],
        serial: r.inheritStdio ? 'stdio' : { file: serialLog },
        pidFile: join(r.logDir, 'qemu.pid'),
      },
      { logFile: qemuLog, ...(r.inheritStdio ? { inheritStdio: true } : {}) },
    );
    await vmStarted(vm);
    await vm.waitExit(1500);
    if (!vm.running && BIND_FAILURE.test(vm.qemuLog()) && attempt < 3 && r.sshPort === undefined && r.webPort === undefined) continue;
    if (!vm.running) throw new RunError(`QEMU did not start\n${describeExit(vm)}`, { fix: `see ${qemuLog}` });
    return { vm, sshPort, webPort, serialLog };
  }
}

export { waitForSsh };

/**
 * Asks the guest to power off with `remote` (a command that ends in `systemctl poweroff`) and waits for QEMU
 * to exit, at most `timeoutMs`. Only when that bound passes is the VM killed — and that is an error.
 */
export async function powerOff(
  s: Session,
  t: SshTarget,
  remote: string[],
  timeoutMs: number,
  opts: { logFile?: string; signal?: AbortSignal } = {},
): Promise<number> {
  const t0 = Date.now();
  try {
    // the connection drops when sshd stops: exit 255 is expected
    await sshRun(t, remote, {
      what: 'power-off',
      timeoutMs: Math.min(timeoutMs, 300_000),
      okCodes: [0, 255],
      ...(opts.logFile ? { logFile: opts.logFile } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if (s.vm.running) throw e;
  }
  const left = Math.max(1000, timeoutMs - (Date.now() - t0));
  if (!(await s.vm.waitExit(left, opts.signal))) {
    await s.vm.kill();
    throw new RunError(
      `the guest did not power off within ${Math.round(timeoutMs / 1000)} s; QEMU was stopped and the disk discarded\nlast serial console lines:\n${lastLines(s.vm.serial())}`,
    );
  }
  const exit = s.vm.exit!;
  if (exit.code !== 0)
    throw new RunError(`QEMU exited with status ${exit.code ?? exit.signal} during the power-off\n${describeExit(s.vm)}`);
  if (!poweredOff(s.vm.serial()))
    throw new RunError(`the guest stopped without a clean power-off (no "reboot: Power down" on the console)\n${describeExit(s.vm)}`);
  return Date.now() - t0;
}

/** Polls http://127.0.0.1:port/ until nginx answers (any HTTP status), at most `timeoutMs`. */
export async function waitForHttp(port: number, timeoutMs: number, path = '/'): Promise<{ status: number; server: string }> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000), redirect: 'manual' });
      await res.arrayBuffer();
      return { status: res.status, server: res.headers.get('server') ?? '' };
    } catch (e) {
      last = messageOf(e);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new RunError(`nothing answered HTTP on 127.0.0.1:${port} within ${Math.round(timeoutMs / 1000)} s (${last})`);
}
