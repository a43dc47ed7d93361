/** What differs between the two guest architectures: QEMU binary, machine, CPU model, console, kernel, firmware. */
import { existsSync } from 'node:fs';
import { ARCH_NAMES, HOST_ARCH, type Arch, type ArchNames } from '../config/platform.js';

export interface ArchSpec {
  arch: Arch;
  /** uname -m of the guest. */
  uname: 'x86_64' | 'aarch64';
  qemuBinary: `qemu-system-${ArchNames['qemu']}`;
  /** Debian package of the binary (also the name in Ubuntu). */
  qemuPackage: 'qemu-system-x86' | 'qemu-system-arm';
  machine: string;
  /** CPU model under TCG. aarch64: cortex-a57, because `max` pays for pointer authentication (2x slower). */
  tcgCpu: string;
  console: 'ttyS0' | 'ttyAMA0';
  debianKernel: string;
  /** UEFI firmware (needed only to boot a cloud image on arm64; amd64 cloud images boot with SeaBIOS). */
  firmwarePackage: 'ovmf' | 'qemu-efi-aarch64';
  firmwareCode: string[];
  firmwareVars: string[];
}

export const ARCHES: Record<Arch, ArchSpec> = {
  amd64: {
    arch: 'amd64',
    uname: ARCH_NAMES.amd64.uname,
    qemuBinary: `qemu-system-${ARCH_NAMES.amd64.qemu}`,
    qemuPackage: 'qemu-system-x86',
    machine: 'q35',
    tcgCpu: 'max',
    console: 'ttyS0',
    debianKernel: 'linux-image-cloud-amd64',
    firmwarePackage: 'ovmf',
    firmwareCode: ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'],
    firmwareVars: ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'],
  },
  arm64: {
    arch: 'arm64',
    uname: ARCH_NAMES.arm64.uname,
    qemuBinary: `qemu-system-${ARCH_NAMES.arm64.qemu}`,
    qemuPackage: 'qemu-system-arm',
    machine: 'virt',
    tcgCpu: 'cortex-a57',
    console: 'ttyAMA0',
    debianKernel: 'linux-image-cloud-arm64',
    firmwarePackage: 'qemu-efi-aarch64',
    firmwareCode: ['/usr/share/AAVMF/AAVMF_CODE.fd'],
    firmwareVars: ['/usr/share/AAVMF/AAVMF_VARS.fd'],
  },
};

/** The host's architecture, as KVM and the rootfs build compare guests with it (read once, in platform.ts). */
export function hostArch(): Arch | undefined {
  return HOST_ARCH;
}

/** The first existing file of a list (firmware paths differ between releases). */
export function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}
