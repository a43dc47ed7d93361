/**
 * KVM or TCG. `/dev/kvm` existing (even opening) proves nothing: on nested PVM hosts guests hang silently
 * right after the real-mode stub. So KVM is used only after a short bounded boot under KVM reaches a serial
 * marker; otherwise TCG. `--accel kvm|tcg` forces a choice (kvm without the probe, and a clear error if the
 * device is unusable).
 */
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError, RunError } from '../config/errors.js';
import type { Arch } from '../config/platform.js';
import { ARCHES, hostArch } from './arch.js';
import { startVm, vmStarted, type Accel, type BootSpec } from './vm.js';

export type AccelChoice = 'auto' | Accel;

export const PROBE_TIMEOUT_MS = 20_000;

export function parseAccel(text: string | undefined): AccelChoice {
  const v = text ?? 'auto';
  if (v === 'auto' || v === 'kvm' || v === 'tcg') return v;
  throw new InputError(
    `--accel ${JSON.stringify(v)}: expected auto, kvm or tcg`,
    undefined,
    'auto probes KVM with a short boot and falls back to TCG',
  );
}

/** Why KVM cannot even be tried for this guest (undefined when it can). */
export function kvmUnavailable(arch: Arch): string | undefined {
  if (hostArch() !== arch)
    return `the guest is ${arch} and the host is ${hostArch() ?? 'another architecture'} (KVM runs only same-architecture guests)`;
  if (!existsSync('/dev/kvm')) return 'there is no /dev/kvm';
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is not readable and writable by this user (add it to the kvm group)';
  }
  return undefined;
}

export interface ProbeResult {
  usable: boolean;
  detail: string;
  ms: number;
}

export interface ProbeRecord extends ProbeResult {
  time: string;
  arch: Arch;
  kernelRelease: string;
}

/**
 * Boots `boot` (a kernel, or the disk's own loader with the disk opened read-only) under KVM, with no
 * network, and waits at most `timeoutMs` for a marker on the serial console: the kernel echoing a nonce
 * from its command line (kernel boot), or "Linux version" (firmware boot). The probe VM is always stopped.
 */
export async function probeKvm(
  arch: Arch,
  boot: BootSpec,
  disk: string | undefined,
  timeoutMs = PROBE_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<ProbeResult> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'idekube-kvm-probe-'));
  const nonce = `idekube_probe=${randomBytes(6).toString('hex')}`;
  const serial = join(dir, 'serial.log');
  const probeBoot: BootSpec =
    boot.kind === 'kernel'
      ? { kind: 'kernel', kernel: boot.kernel, initrd: boot.initrd, append: `console=${ARCHES[arch].console} panic=-1 ${nonce}` }
      : boot;
  const marker = boot.kind === 'kernel' ? nonce : 'Linux version';
  writeFileSync(serial, '');
  const vm = startVm(
    {
      arch,
      accel: 'kvm',
      memory: '512M',
      cpus: 1,
      disk: disk ?? '',
      snapshot: true,
      boot: probeBoot,
      forwards: [],
      serial: { file: serial },
      noNetwork: true,
    },
    { logFile: join(dir, 'qemu.log') },
  );
  try {
    await vmStarted(vm);
    while (Date.now() - t0 < timeoutMs && !signal?.aborted) {
      if (readFileSync(serial, 'utf8').includes(marker))
        return {
          usable: true,
          detail: `a KVM boot reached the serial marker in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
          ms: Date.now() - t0,
        };
      if (!vm.running) {
        const lines = readFileSync(join(dir, 'qemu.log'), 'utf8').trim().split('\n').filter(Boolean);
        const log = (lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? '').replace(/^qemu-system-\w+: /, '').slice(0, 160);
        return { usable: false, detail: `QEMU with KVM exited before the serial marker${log ? `: ${log}` : ''}`, ms: Date.now() - t0 };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      usable: false,
      detail: `a KVM boot showed no serial marker within ${timeoutMs / 1000} s (the guest hangs under this host's KVM)`,
      ms: Date.now() - t0,
    };
  } finally {
    await vm.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface AccelDecision {
  accel: Accel;
  reason: string;
  probe?: ProbeResult;
}

/**
 * The accelerator for a guest. `auto`: KVM if usable and the probe passes, else TCG. `kvm`: KVM or an error.
 * A disk-less firmware boot cannot be probed; it then gets TCG.
 */
export async function chooseAccel(
  choice: AccelChoice,
  arch: Arch,
  boot: BootSpec,
  disk: string | undefined,
  opts: { recordFile?: string; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<AccelDecision> {
  if (choice === 'tcg') return { accel: 'tcg', reason: '--accel tcg' };
  const why = kvmUnavailable(arch);
  if (choice === 'kvm') {
    if (why) throw new InputError(`--accel kvm: ${why}`, undefined, 'use --accel tcg (or auto)');
    return { accel: 'kvm', reason: '--accel kvm (not probed)' };
  }
  if (why) return { accel: 'tcg', reason: `TCG: ${why}` };
  const probe = await probeKvm(arch, boot, disk, opts.timeoutMs ?? PROBE_TIMEOUT_MS, opts.signal);
  if (opts.recordFile) {
    const rec: ProbeRecord = { ...probe, time: new Date().toISOString(), arch, kernelRelease: release() };
    try {
      writeFileSync(opts.recordFile, `${JSON.stringify(rec, null, 2)}\n`);
    } catch {
      /* the record only feeds `idekube doctor` */
    }
  }
  if (opts.signal?.aborted) throw new RunError('cancelled');
  return probe.usable ? { accel: 'kvm', reason: `KVM: ${probe.detail}`, probe } : { accel: 'tcg', reason: `TCG: ${probe.detail}`, probe };
}

export function readProbeRecord(file: string): ProbeRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProbeRecord;
  } catch {
    return undefined;
  }
}
