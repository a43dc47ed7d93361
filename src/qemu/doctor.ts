/**
 * The QEMU part of `idekube doctor`: qemu-system binaries, the tools root disks need, firmware, and KVM —
 * whether /dev/kvm is usable, and what the last probe boot found (it is never inferred from /dev/kvm alone).
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHS, type Arch } from '../config/platform.js';
import { ARCHES, firstExisting, hostArch } from './arch.js';
import { onPath } from './exec.js';
import { readProbeRecord } from './kvm.js';

export interface QemuCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

/** `projectRoot`: where .idekube/qemu/kvm-probe.json may hold the last probe verdict. */
export function qemuChecks(projectRoot: string | undefined, arches: readonly Arch[] = ARCHS): QemuCheck[] {
  const out: QemuCheck[] = [];
  for (const a of arches) {
    const s = ARCHES[a];
    const bin = onPath(s.qemuBinary);
    out.push(
      bin
        ? { name: `qemu ${a}`, status: 'ok', detail: `${bin}` }
        : {
            name: `qemu ${a}`,
            status: 'warn',
            detail: `no ${s.qemuBinary}: ${a} VM disks cannot be built or run here`,
            fix: `apt-get install ${s.qemuPackage}`,
          },
    );
  }
  const tools: Array<[string, string, string]> = [
    ['qemu-img', 'qemu-utils', 'every disk'],
    ['mmdebstrap', 'mmdebstrap', '--base debian'],
    ['mkfs.ext4', 'e2fsprogs', '--base debian'],
    ['genisoimage', 'genisoimage', 'the NoCloud seed'],
    ['ssh', 'openssh-client', 'provisioning'],
    ['ssh-keygen', 'openssh-client', 'per-build keys'],
  ];
  const missing = tools.filter(([t]) => !onPath(t) && !(t === 'genisoimage' && (onPath('mkisofs') || onPath('xorriso'))));
  out.push(
    missing.length
      ? {
          name: 'qemu tools',
          status: 'warn',
          detail: `missing ${missing.map(([t, , why]) => `${t} (${why})`).join(', ')}`,
          fix: `apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')}`,
        }
      : { name: 'qemu tools', status: 'ok', detail: tools.map(([t]) => t).join(', ') },
  );
  const arm = firstExisting(ARCHES.arm64.firmwareCode);
  out.push(
    arm
      ? {
          name: 'qemu firmware',
          status: 'ok',
          detail: `aarch64 UEFI ${arm}; amd64 boots SeaBIOS${firstExisting(ARCHES.amd64.firmwareCode) ? ' (OVMF also present)' : ''}`,
        }
      : {
          name: 'qemu firmware',
          status: 'warn',
          detail: 'no aarch64 UEFI firmware: arm64 cloud images cannot boot here (Debian disks boot their kernel directly and need none)',
          fix: 'apt-get install qemu-efi-aarch64',
        },
  );
  out.push(kvmCheck(projectRoot));
  return out;
}

function kvmModule(): string | undefined {
  try {
    return readdirSync('/sys/module').find((m) => /^kvm_(intel|amd|pvm|arm)/.test(m) || m === 'kvm_pvm');
  } catch {
    return undefined;
  }
}

export function kvmCheck(projectRoot: string | undefined): QemuCheck {
  if (!existsSync('/dev/kvm')) return { name: 'kvm', status: 'warn', detail: 'no /dev/kvm: VMs run under TCG (several times slower)' };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return {
      name: 'kvm',
      status: 'warn',
      detail: '/dev/kvm is not readable and writable by this user: VMs run under TCG',
      fix: 'add the user to the kvm group',
    };
  }
  const mod = kvmModule();
  const rec = projectRoot ? readProbeRecord(join(projectRoot, '.idekube', 'qemu', 'kvm-probe.json')) : undefined;
  const host = hostArch();
  const modText = mod ? ` (module ${mod}${mod === 'kvm_pvm' ? ': a nested PVM hypervisor, where ordinary guests hang' : ''})` : '';
  if (!rec) {
    return {
      name: 'kvm',
      status: 'ok',
      detail: `/dev/kvm is usable${modText}; not probed yet: \`idekube qemu rootdisk\` boots a kernel under KVM for at most 20 s and uses TCG if it shows nothing`,
    };
  }
  const when = `${rec.time.slice(0, 16).replace('T', ' ')} UTC`;
  if (rec.usable)
    return {
      name: 'kvm',
      status: 'ok',
      detail: `/dev/kvm works${modText}: ${rec.detail} (probe of ${when}, ${rec.arch} guest${rec.arch === host ? '' : ''})`,
    };
  return {
    name: 'kvm',
    status: 'warn',
    detail: `/dev/kvm exists${modText} but guests do not run under it: ${rec.detail} (probe of ${when}); VMs use TCG`,
    fix: 'nothing to do: idekube probes KVM before each build and falls back to TCG; --accel tcg skips the probe',
  };
}
