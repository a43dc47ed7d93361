/**
 * One QEMU process: its argv (a pure function, unit-tested), start with the PID tracked, the serial console
 * in a file, and bounded waits. A VM is only ever killed by its own PID, and only when a bound has passed,
 * the build failed or the user interrupted — never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { RunError } from '../config/errors.js';
import type { Arch } from '../config/platform.js';
import { ARCHES, firstExisting } from './arch.js';
import { onPath } from './exec.js';

export type Accel = 'kvm' | 'tcg';

export type BootSpec =
  | { kind: 'kernel'; kernel: string; initrd: string; append: string }
  /** The disk's own boot loader: SeaBIOS on amd64, UEFI (AAVMF) on arm64. */
  | { kind: 'firmware'; firmwareCode?: string; firmwareVars?: string };

export interface Forward {
  hostPort: number;
  guestPort: number;
  /** 127.0.0.1 for builds and local runs; empty (all interfaces) only inside the VM container. */
  hostAddr?: string;
}

export interface VmSpec {
  arch: Arch;
  accel: Accel;
  memory: string;
  cpus: number;
  /** The root disk (qcow2); '' for none (the KVM probe of a kernel). */
  disk: string;
  /** Discard all writes (qemu -snapshot). */
  snapshot?: boolean;
  boot: BootSpec;
  seed?: string;
  forwards: Forward[];
  /** Serial console: a file, or the terminal (with the monitor multiplexed, Ctrl-A c). */
  serial: { file: string } | 'stdio';
  pidFile?: string;
  /** No network at all (the KVM probe). */
  noNetwork?: boolean;
}

/** QEMU's option syntax doubles commas inside values. */
export function optValue(s: string): string {
  return s.replace(/,/g, ',,');
}

/** The kernel command line of idekube's Debian disks. panic=1 + -no-reboot: a guest that cannot boot ends QEMU. */
export function kernelAppend(arch: Arch, extra = ''): string {
  return `root=/dev/vda rw console=${ARCHES[arch].console} panic=1${extra ? ` ${extra}` : ''}`;
}

export function qemuArgv(spec: VmSpec): { binary: string; args: string[] } {
  const a = ARCHES[spec.arch];
  // graphics=off: no display, and SeaBIOS writes its messages ("No bootable device") to the serial console
  const machine = spec.arch === 'amd64' ? `${a.machine},graphics=off` : a.machine;
  const args: string[] = ['-name', 'idekube-vm', '-nodefaults', '-no-reboot', '-machine', machine];
  if (spec.accel === 'kvm') args.push('-accel', 'kvm', '-cpu', 'host');
  else args.push('-accel', 'tcg,thread=multi', '-cpu', a.tcgCpu);
  args.push('-smp', String(spec.cpus), '-m', spec.memory);
  if (spec.boot.kind === 'kernel') {
    args.push('-kernel', spec.boot.kernel, '-initrd', spec.boot.initrd, '-append', spec.boot.append);
  } else if (spec.arch === 'arm64') {
    const code = spec.boot.firmwareCode ?? firstExisting(a.firmwareCode);
    if (!code) throw new RunError('no aarch64 UEFI firmware to boot the disk with', { fix: `apt-get install ${a.firmwarePackage}` });
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${optValue(code)}`);
    if (spec.boot.firmwareVars) args.push('-drive', `if=pflash,format=raw,file=${optValue(spec.boot.firmwareVars)}`);
  } else {
    // SeaBIOS: with no bootable disk, reboot after 5 s, which -no-reboot turns into QEMU exiting.
    args.push('-boot', 'order=c,reboot-timeout=5000');
  }
  if (spec.disk)
    args.push(
      '-drive',
      `file=${optValue(spec.disk)},if=virtio,format=qcow2,discard=unmap,cache=writeback${spec.snapshot ? ',snapshot=on' : ''}`,
    );
  if (spec.seed) args.push('-drive', `file=${optValue(spec.seed)},if=virtio,format=raw,readonly=on`);
  if (!spec.noNetwork) {
    const fwd = spec.forwards.map((f) => `,hostfwd=tcp:${f.hostAddr ?? '127.0.0.1'}:${f.hostPort}-:${f.guestPort}`).join('');
    // romfile= : no iPXE option ROM, so firmware never tries a network boot
    args.push('-netdev', `user,id=n0${fwd}`, '-device', 'virtio-net-pci,netdev=n0,romfile=');
  }
  args.push('-device', 'virtio-rng-pci', '-display', 'none');
  if (spec.serial === 'stdio')
    args.push('-chardev', 'stdio,id=con0,mux=on,signal=off', '-serial', 'chardev:con0', '-mon', 'chardev=con0,mode=readline');
  else args.push('-serial', `file:${spec.serial.file}`, '-monitor', 'none');
  if (spec.pidFile) args.push('-pidfile', spec.pidFile);
  return { binary: a.qemuBinary, args };
}

export interface VmExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Live VMs of this process, killed if the process exits while they run (e.g. an uncaught error). */
const live = new Set<Vm>();
let exitHook = false;

export class Vm {
  readonly pid: number;
  readonly exited: Promise<VmExit>;
  private exitInfo: VmExit | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly spec: VmSpec,
    readonly logFile: string | undefined,
  ) {
    if (child.pid === undefined) throw new RunError(`could not start ${qemuArgv(spec).binary}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const vm of live) vm.killNow();
      });
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): VmExit | undefined {
    return this.exitInfo;
  }

  /** The serial console so far ('' when it goes to the terminal). */
  serial(): string {
    const s = this.spec.serial;
    if (s === 'stdio' || !existsSync(s.file)) return '';
    return readFileSync(s.file, 'utf8');
  }

  /** QEMU's own stderr/stdout so far. */
  qemuLog(): string {
    return this.logFile && existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private killNow(): void {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  /** Stops the QEMU process (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => this.killNow(), 5000);
    await this.exited;
    clearTimeout(t);
  }

  /** Waits for QEMU to exit by itself; false if `timeoutMs` passed first (the VM keeps running). */
  async waitExit(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const result = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
      new Promise<boolean>((resolve) => {
        if (!signal) return;
        onAbort = () => resolve(false);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    return result;
  }
}

export function startVm(spec: VmSpec, opts: { logFile?: string; inheritStdio?: boolean } = {}): Vm {
  const { binary, args } = qemuArgv(spec);
  if (!onPath(binary)) throw new RunError(`${binary} is not installed`, { fix: `apt-get install ${ARCHES[spec.arch].qemuPackage}` });
  let fd: number | undefined;
  let stdio: Array<'ignore' | 'inherit' | number>;
  if (opts.inheritStdio) stdio = ['inherit', 'inherit', 'inherit'];
  else {
    fd = opts.logFile ? openSync(opts.logFile, 'a') : undefined;
    stdio = ['ignore', fd ?? 'ignore', fd ?? 'ignore'];
  }
  const child = spawn(binary, args, { stdio });
  if (fd !== undefined) closeSync(fd);
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new RunError(`${binary} is not installed`, { fix: `apt-get install ${ARCHES[spec.arch].qemuPackage}` })
          : new RunError(`could not start ${binary}: ${e.message}`),
      ),
    );
  });
  // spawn errors surface asynchronously; callers await vmStarted() right after.
  started.catch(() => {});
  pendingStarts.set(child, started);
  return new Vm(child, spec, opts.logFile);
}

const pendingStarts = new WeakMap<ChildProcess, Promise<void>>();

/** Resolves once QEMU runs (or rejects when the binary is missing). */
export async function vmStarted(vm: Vm): Promise<void> {
  await pendingStarts.get(vm.child);
}

/** The last lines of a text, for error messages. */
export function lastLines(text: string, n = 12): string {
  // strip terminal escapes the firmware prints
  const clean = text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1bc/g, '')
    .replace(/\r/g, '');
  return clean.trimEnd().split('\n').slice(-n).join('\n');
}

/** Why a VM is gone, in words, with the last serial lines. */
export function describeExit(vm: Vm): string {
  const e = vm.exit;
  const how = !e ? 'was still running (idekube stops it)' : e.signal ? `was killed by ${e.signal}` : `exited with status ${e.code}`;
  const qlog = lastLines(vm.qemuLog(), 5);
  const serial = lastLines(vm.serial(), 12);
  let s = `QEMU ${how}`;
  if (qlog) s += `\nQEMU said:\n${qlog}`;
  if (serial) s += `\nlast serial console lines:\n${serial}`;
  return s;
}

/** "Power down" on the console: the guest shut itself down (not a panic, not a reboot). */
export function poweredOff(serial: string): boolean {
  return /reboot: Power down/.test(serial);
}
