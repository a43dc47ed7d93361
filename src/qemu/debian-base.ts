/**
 * `--base debian`: a lean bootable Debian root file system made from packages with mmdebstrap (the host's
 * apt sources, unless QEMU_DEBIAN_MIRROR names a mirror), cached as a tarball keyed by its inputs, then an
 * ext4 disk made without loop mounts (mkfs.ext4 -d) and converted to qcow2. Booted with the kernel and initrd
 * taken from the rootfs (direct kernel boot: no boot loader, no firmware).
 *
 * The recipe (measured on 2-core TCG hosts): the cloud kernel with a MODULES=list initramfs (the generic
 * kernel's MODULES=most initramfs costs ~9 minutes under arm64 emulation), systemd-networkd with DHCP,
 * resolv.conf pointing at QEMU's user-network DNS (10.0.2.3), no SSH host keys (made at first boot), and
 * idekube's guest files (seed and growfs units).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../config/errors.js';
import type { Arch } from '../config/platform.js';
import { ARCHES } from './arch.js';
import { QEMU_CODE_VERSION, hashFile, hashTree, keyOf, sha256 } from './cache-key.js';
import { runTool } from './exec.js';
import { ensureDir, publishFile, type CachePaths } from './paths.js';
import type { QemuSettings } from './settings.js';

/** Packages of every Debian base disk (plus the arch's cloud kernel and QEMU_DEBIAN_PACKAGES). */
export const BASE_PACKAGES = [
  'systemd-sysv',
  'udev',
  'dbus',
  'openssh-server',
  'sudo',
  'initramfs-tools',
  'e2fsprogs',
  'iproute2',
  'netbase',
  'kmod',
];

/** Hooks are fixed text: the only outside value (idekube's guest files) arrives as an environment variable. */
export const ESSENTIAL_HOOKS = [
  'mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"',
  'echo MODULES=list > "$1/etc/initramfs-tools/conf.d/idekube.conf"',
  'printf "#!/bin/sh\\n[ \\"\\$1\\" = prereqs ] && exit 0\\n. /usr/share/initramfs-tools/hook-functions\\nmanual_add_modules virtio_pci virtio_blk virtio_mmio ext4 crc32c_generic\\n" > "$1/etc/initramfs-tools/hooks/idekube-virtio" && chmod +x "$1/etc/initramfs-tools/hooks/idekube-virtio"',
];

export const CUSTOMIZE_HOOKS = [
  'echo idekube-vm > "$1/etc/hostname" && printf "127.0.1.1 idekube-vm\\n" >> "$1/etc/hosts"',
  'printf "/dev/vda / ext4 defaults,errors=remount-ro 0 1\\n" > "$1/etc/fstab"',
  'mkdir -p "$1/etc/systemd/network" && printf "[Match]\\nName=en* eth*\\n\\n[Network]\\nDHCP=yes\\n" > "$1/etc/systemd/network/10-dhcp.network"',
  'rm -f "$1/etc/resolv.conf" && echo "nameserver 10.0.2.3" > "$1/etc/resolv.conf"',
  'cp -a "$IDEKUBE_GUEST_FILES"/. "$1"/',
  'chroot "$1" systemctl enable systemd-networkd idekube-seed.service idekube-growfs.service',
  'rm -f "$1"/etc/ssh/ssh_host_*',
  ': > "$1/etc/machine-id"',
];

export function includeList(arch: Arch, extra: string[]): string[] {
  return [...new Set([ARCHES[arch].debianKernel, ...BASE_PACKAGES, ...extra])];
}

export function mmdebstrapArgv(arch: Arch, suite: string, mirror: string, extra: string[], out: string): string[] {
  return [
    '--variant=minbase',
    `--architectures=${arch}`,
    '--format=tar',
    `--include=${includeList(arch, extra).join(',')}`,
    ...ESSENTIAL_HOOKS.map((h) => `--essential-hook=${h}`),
    ...CUSTOMIZE_HOOKS.map((h) => `--customize-hook=${h}`),
    suite,
    out,
    ...(mirror ? [mirror] : []),
  ];
}

/** The host's apt sources (what mmdebstrap uses without a mirror argument), for the cache key. */
function hostSources(): string {
  const parts: string[] = [];
  const add = (p: string) => {
    if (existsSync(p)) parts.push(`${p}\n${readFileSync(p, 'utf8')}`);
  };
  add('/etc/apt/sources.list');
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) for (const n of readdirSync(d).sort()) if (n.endsWith('.list') || n.endsWith('.sources')) add(join(d, n));
  return sha256(parts.join('\n'));
}

export interface RootfsTarball {
  tarball: string;
  sha256: string;
  key: string;
  cached: boolean;
}

export function rootfsInputs(arch: Arch, s: QemuSettings, guestDir: string): Record<string, unknown> {
  return {
    what: 'debian-rootfs',
    code: QEMU_CODE_VERSION,
    arch,
    suite: s.debianSuite,
    mirror: s.debianMirror,
    sources: s.debianMirror ? null : hostSources(),
    include: includeList(arch, s.debianPackages),
    hooks: [ESSENTIAL_HOOKS, CUSTOMIZE_HOOKS],
    guest: hashTree(guestDir),
  };
}

/** The cached rootfs tarball for these inputs, built with mmdebstrap when missing. */
export async function ensureRootfs(
  paths: CachePaths,
  arch: Arch,
  s: QemuSettings,
  guestDir: string,
  opts: { logFile: string; signal?: AbortSignal; onLine?: (l: string) => void; onBuild?: () => void },
): Promise<RootfsTarball> {
  const key = keyOf(rootfsInputs(arch, s, guestDir));
  const name = `debian-${s.debianSuite}-${arch}-${key}`;
  ensureDir(paths.base);
  const tarball = join(paths.base, `${name}.tar`);
  const meta = join(paths.base, `${name}.json`);
  if (existsSync(tarball) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { sha256: string };
    return { tarball, sha256: m.sha256, key, cached: true };
  }
  if (process.getuid?.() !== 0) {
    throw new RunError('building a Debian base disk needs root (mmdebstrap must keep file ownership for the disk)', {
      fix: 'run as root (sudo), or use --base cloud',
    });
  }
  const tmp = `${tarball}.tmp-${process.pid}`;
  opts.onBuild?.();
  try {
    await runTool('mmdebstrap', mmdebstrapArgv(arch, s.debianSuite, s.debianMirror, s.debianPackages, tmp), {
      what: `mmdebstrap (Debian ${s.debianSuite} ${arch} rootfs)`,
      timeoutMs: (arch === 'arm64' ? 40 : 15) * 60_000,
      env: { ...stringEnv(process.env), IDEKUBE_GUEST_FILES: guestDir },
      logFile: opts.logFile,
      ...(opts.onLine ? { onLine: opts.onLine } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const digest = await hashFile(tmp);
    writeFileSync(
      `${meta}.tmp`,
      `${JSON.stringify({ key, sha256: digest, arch, suite: s.debianSuite, created: new Date().toISOString() }, null, 2)}\n`,
    );
    publishFile(`${meta}.tmp`, meta);
    publishFile(tmp, tarball);
    return { tarball, sha256: digest, key, cached: false };
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${meta}.tmp`, { force: true });
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Newest `prefix<version>` in a folder (version sort). */
export function newest(names: string[], prefix: string): string | undefined {
  return names
    .filter((n) => n.startsWith(prefix))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .pop();
}

/** rootfs tarball → work/disk.qcow2 (+ vmlinuz, initrd.img next to it). No loop device, no mount. */
export async function diskFromRootfs(
  tarball: string,
  work: string,
  sizeBytes: number,
  opts: { logFile: string; signal?: AbortSignal },
): Promise<{ disk: string; kernel: string; initrd: string }> {
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  const common = { logFile: opts.logFile, ...(opts.signal ? { signal: opts.signal } : {}) };
  try {
    await runTool('tar', ['--numeric-owner', '-xpf', tarball, '-C', rootfs], {
      what: 'unpacking the rootfs',
      timeoutMs: 10 * 60_000,
      ...common,
    });
    const boot = readdirSync(join(rootfs, 'boot'));
    const vmlinuz = newest(boot, 'vmlinuz-');
    if (!vmlinuz) throw new RunError(`the rootfs has no /boot/vmlinuz-* (${tarball})`);
    const initrd = `initrd.img-${vmlinuz.slice('vmlinuz-'.length)}`;
    if (!boot.includes(initrd)) throw new RunError(`the rootfs has no /boot/${initrd}`);
    const kernel = join(work, 'vmlinuz');
    const initrdOut = join(work, 'initrd.img');
    copyFileSync(join(rootfs, 'boot', vmlinuz), kernel);
    copyFileSync(join(rootfs, 'boot', initrd), initrdOut);
    const raw = join(work, 'disk.raw');
    await runTool('mkfs.ext4', ['-q', '-F', '-L', 'idekube-root', '-d', rootfs, raw, `${Math.floor(sizeBytes / 2 ** 20)}M`], {
      what: 'mkfs.ext4 -d',
      timeoutMs: 10 * 60_000,
      ...common,
    });
    rmSync(rootfs, { recursive: true, force: true });
    const disk = join(work, 'disk.qcow2');
    await runTool('qemu-img', ['convert', '-O', 'qcow2', raw, disk], { what: 'qemu-img convert', timeoutMs: 10 * 60_000, ...common });
    rmSync(raw, { force: true });
    return { disk, kernel, initrd: initrdOut };
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}
