/**
 * The QEMU settings of a flavor, read from the same layered sources as build args (README "Precedence"):
 * .dockerargs < .dockerargs.<profile> < flavors/<f>/<v>/.dockerargs < IDEKUBE_ARG_<KEY> < --set KEY=VALUE.
 * Each value keeps its origin, so an error can name the file and line to fix.
 */
import { InputError } from '../config/errors.js';
import type { Project } from '../config/project.js';
import { describeOrigin, lookupLayered, type Candidate } from '../config/layered.js';
import { ARCHS, type Arch } from '../config/platform.js';
import { argCandidates, readArgsFile } from '../config/sources.js';

export type BaseKind = 'debian' | 'cloud';

/** A QEMU setting as its winning source gave it. */
export type Setting = Candidate;

export interface QemuSettings {
  base: BaseKind;
  baseFrom?: Setting;
  /** Debian suite of `--base debian` (the host's apt sources, or QEMU_DEBIAN_MIRROR, must carry it). */
  debianSuite: string;
  /** A mirror URL for mmdebstrap; empty: the host's apt sources (no mirror host is named by idekube). */
  debianMirror: string;
  /** Extra Debian packages baked into the base disk. */
  debianPackages: string[];
  /** Virtual size of the root disk, e.g. 8G. */
  diskSize: string;
  diskSizeBytes: number;
  cloud: Partial<Record<Arch, { url?: Setting; sha256?: Setting }>>;
  /** Base image of the VM-in-container image. */
  containerBase?: Setting;
}

export const DEFAULTS = {
  QEMU_BASE: 'debian',
  QEMU_DEBIAN_SUITE: 'bookworm',
  QEMU_DISK_SIZE: '8G',
} as const;

/** The winning value of KEY for a flavor (or the project when flavorId is undefined), with its origin. */
export function lookup(project: Project, key: string, flavorId?: string): Setting | undefined {
  const flavor = flavorId ? project.catalog.flavors.get(flavorId) : undefined;
  const found = lookupLayered(argCandidates(project.layered, flavor?.argsFile ? readArgsFile(project.root, flavor.argsFile) : []), key);
  return found && { key, value: found.value, origin: found.origin };
}

/** `file:line` of a setting (for InputError locations); undefined for env/flags/defaults. */
export function locationOf(s: Setting | undefined): { file: string; line: number } | undefined {
  return s && s.origin.kind === 'file' ? { file: s.origin.file, line: s.origin.line } : undefined;
}

export function describe(s: Setting): string {
  return `${s.key}=${JSON.stringify(s.value)} (from ${describeOrigin(s.origin)})`;
}

const SIZE = /^([1-9][0-9]*)([KMGT]?)$/;

/** Bytes of a QEMU-style size (`8G`, `512M`, `1T`; a plain number is bytes). */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const mult = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * mult;
}

const SUITE = /^[a-z][a-z0-9-]*$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?$/;

export function qemuSettings(project: Project, flavorId: string, baseFlag?: string): QemuSettings {
  const get = (k: string) => lookup(project, k, flavorId);
  const baseSetting = get('QEMU_BASE');
  const baseText = baseFlag ?? baseSetting?.value ?? DEFAULTS.QEMU_BASE;
  if (baseText !== 'debian' && baseText !== 'cloud') {
    if (baseFlag !== undefined)
      throw new InputError(
        `--base ${JSON.stringify(baseFlag)}: expected debian or cloud`,
        undefined,
        '--base debian builds the base disk from Debian packages; --base cloud uses the cloud image pinned in .dockerargs',
      );
    throw new InputError(
      `${describe(baseSetting!)}: expected debian or cloud`,
      locationOf(baseSetting),
      'set QEMU_BASE=debian or QEMU_BASE=cloud',
    );
  }
  const suiteSetting = get('QEMU_DEBIAN_SUITE');
  const debianSuite = suiteSetting?.value || DEFAULTS.QEMU_DEBIAN_SUITE;
  if (!SUITE.test(debianSuite))
    throw new InputError(
      `${describe(suiteSetting!)} is not a Debian suite name`,
      locationOf(suiteSetting),
      'e.g. QEMU_DEBIAN_SUITE=bookworm',
    );
  const mirrorSetting = get('QEMU_DEBIAN_MIRROR');
  const debianMirror = mirrorSetting?.value ?? '';
  if (debianMirror && !/^(https?|file):\/\/\S+$/.test(debianMirror)) {
    throw new InputError(
      `${describe(mirrorSetting!)} is not a URL`,
      locationOf(mirrorSetting),
      "give an http(s):// or file:// mirror URL, or leave it empty to use the host's apt sources",
    );
  }
  const pkgSetting = get('QEMU_DEBIAN_PACKAGES');
  const debianPackages = (pkgSetting?.value ?? '').split(/[\s,]+/).filter(Boolean);
  for (const p of debianPackages) {
    if (!PACKAGE.test(p))
      throw new InputError(
        `${describe(pkgSetting!)}: ${JSON.stringify(p)} is not a Debian package name`,
        locationOf(pkgSetting),
        'list package names separated by spaces or commas',
      );
  }
  const sizeSetting = get('QEMU_DISK_SIZE');
  const diskSize = sizeSetting?.value || DEFAULTS.QEMU_DISK_SIZE;
  const diskSizeBytes = parseSize(diskSize);
  if (diskSizeBytes === undefined || diskSizeBytes < 2 ** 30) {
    throw new InputError(
      `${sizeSetting ? describe(sizeSetting) : `QEMU_DISK_SIZE=${diskSize}`}: expected a size of at least 1G such as 8G or 8192M`,
      locationOf(sizeSetting),
      'set QEMU_DISK_SIZE=8G (in .dockerargs, or per flavor in flavors/<f>/<v>/.dockerargs)',
    );
  }
  const cloud: QemuSettings['cloud'] = {};
  for (const arch of ARCHS) {
    const url = get(`QEMU_CLOUD_IMAGE_URL_${arch.toUpperCase()}`);
    const sha256 = get(`QEMU_CLOUD_IMAGE_SHA256_${arch.toUpperCase()}`);
    cloud[arch] = { ...(url ? { url } : {}), ...(sha256 ? { sha256 } : {}) };
  }
  const containerBase = get('QEMU_BASE_IMAGE');
  return {
    base: baseText,
    ...(baseSetting ? { baseFrom: baseSetting } : {}),
    debianSuite,
    debianMirror,
    debianPackages,
    diskSize,
    diskSizeBytes,
    cloud,
    ...(containerBase ? { containerBase } : {}),
  };
}
