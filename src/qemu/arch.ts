/** What differs between the two guest architectures: QEMU binary, machine, CPU model, console, kernel, firmware. */
import { existsSync } from 'node:fs';
import { arch as nodeArch } from 'node:os';
import { InputError } from '../config/errors.js';
import type { Arch } from '../config/tags.js';

export interface ArchSpec {
  arch: Arch;
  /** uname -m of the guest. */
  uname: 'x86_64' | 'aarch64';
  qemuBinary: 'qemu-system-x86_64' | 'qemu-system-aarch64';
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
    uname: 'x86_64',
    qemuBinary: 'qemu-system-x86_64',
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
    uname: 'aarch64',
    qemuBinary: 'qemu-system-aarch64',
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

export function hostArch(): Arch | undefined {
  const a = nodeArch();
  return a === 'x64' ? 'amd64' : a === 'arm64' ? 'arm64' : undefined;
}

export function parseArch(text: string | undefined, flag = '--arch'): Arch {
  if (text === undefined) {
    const h = hostArch();
    if (!h) throw new InputError(`this host (${nodeArch()}) is neither amd64 nor arm64`, undefined, `pass ${flag} amd64 or ${flag} arm64`);
    return h;
  }
  if (text === 'amd64' || text === 'arm64') return text;
  const alias: Record<string, Arch> = { x86_64: 'amd64', aarch64: 'arm64', 'linux/amd64': 'amd64', 'linux/arm64': 'arm64' };
  if (alias[text]) return alias[text]!;
  throw new InputError(`${flag} ${JSON.stringify(text)}: expected amd64 or arm64`, undefined, `e.g. ${flag} arm64`);
}

/** The first existing file of a list (firmware paths differ between releases). */
export function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}
