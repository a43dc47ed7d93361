/**
 * The platforms idekube builds, and the names one architecture goes by in each tool's vocabulary: Docker's
 * platform and arch (also Debian's), uname -m, Node's process.arch, QEMU's binary suffix. The host's architecture
 * is read once, here; everything else asks this module.
 */
import { arch as nodeArch } from 'node:os';
import { InputError } from './errors.js';

export const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type Platform = (typeof PLATFORMS)[number];
/** Docker's (and Debian's) architecture name. */
export type Arch = 'amd64' | 'arm64';

export interface ArchNames {
  platform: Platform;
  /** Debian's architecture (dpkg --print-architecture); the same word as Docker's for these two. */
  deb: Arch;
  /** uname -m. */
  uname: 'x86_64' | 'aarch64';
  /** QEMU's name: its binaries are qemu-system-<qemu> and qemu-<qemu> (qemu-user, the binfmt handler). */
  qemu: 'x86_64' | 'aarch64';
  /** Node's process.arch / os.arch(). */
  node: 'x64' | 'arm64';
}

export const ARCH_NAMES: Record<Arch, ArchNames> = {
  amd64: { platform: 'linux/amd64', deb: 'amd64', uname: 'x86_64', qemu: 'x86_64', node: 'x64' },
  arm64: { platform: 'linux/arm64', deb: 'arm64', uname: 'aarch64', qemu: 'aarch64', node: 'arm64' },
};

export const ARCHS = Object.keys(ARCH_NAMES) as Arch[];

export function archOf(platform: Platform): Arch {
  return platform.split('/')[1] as Arch;
}

export function platformOf(arch: Arch): Platform {
  return ARCH_NAMES[arch].platform;
}

export function isPlatform(s: string): s is Platform {
  return (PLATFORMS as readonly string[]).includes(s);
}

/** The architecture of a Node arch name (`x64` → amd64); undefined for one idekube does not build. */
export function archOfNode(name: string): Arch | undefined {
  return ARCHS.find((a) => ARCH_NAMES[a].node === name);
}

/** The architecture this machine runs without emulation (undefined: neither amd64 nor arm64). */
export const HOST_ARCH: Arch | undefined = archOfNode(nodeArch());

/** The architecture words an `--arch` value may use: Docker's, uname's, or a platform. */
export function archOfName(text: string): Arch | undefined {
  return ARCHS.find((a) => text === a || text === ARCH_NAMES[a].uname || text === ARCH_NAMES[a].platform);
}

/** A comma-separated platform list (`--platform`, IDEKUBE_PLATFORMS), deduplicated; undefined when not given. */
export function parsePlatforms(value: string | undefined, via: string): Platform[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((p) => !isPlatform(p));
  if (bad.length || !list.length) {
    throw new InputError(
      `${via} ${JSON.stringify(value)}: unsupported platform ${bad.map((b) => JSON.stringify(b)).join(', ') || '(empty)'}`,
      undefined,
      `use a comma-separated list of: ${PLATFORMS.join(', ')}`,
    );
  }
  return [...new Set(list)] as Platform[];
}

/** An `--arch` value, or the host's when none is given. */
export function parseArch(text: string | undefined, flag = '--arch', host: Arch | null = HOST_ARCH ?? null): Arch {
  if (text === undefined) {
    if (!host)
      throw new InputError(`this host (${nodeArch()}) is neither amd64 nor arm64`, undefined, `pass ${flag} amd64 or ${flag} arm64`);
    return host;
  }
  const arch = archOfName(text);
  if (arch) return arch;
  throw new InputError(`${flag} ${JSON.stringify(text)}: expected amd64 or arm64`, undefined, `e.g. ${flag} arm64`);
}
