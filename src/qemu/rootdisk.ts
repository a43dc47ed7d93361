/**
 * `idekube qemu rootdisk`: a bootable qcow2 root disk for a flavor, provisioned from the same manifest as its
 * container image, cached under a hash of every input.
 *
 *   base disk (Debian packages / verified cloud image / the parent flavor's disk)
 *   → per-build SSH key + NoCloud seed → accelerator (KVM only after a probe) → boot on loopback ports
 *   → bounded wait for SSH → upload layers + generated services → run → check nginx → power off cleanly
 *   → disk.json → rename the work folder into the cache.
 *
 * A failure at any point stops the VM (by PID), removes the work folder and keeps the logs.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformsOf } from '../config/catalog.js';
import { InputError, RunError } from '../config/errors.js';
import { parentOf, type FlavorDef } from '../config/model.js';
import type { Project } from '../config/project.js';
import type { Arch } from '../config/platform.js';
import { qemuArtifacts, type QemuArtifacts } from './artifacts.js';
import { ARCHES, firstExisting, hostArch } from './arch.js';
import { QEMU_CODE_VERSION, hashTree, keyOf } from './cache-key.js';
import { diskFromCloudImage, ensureCloudImage, imageInfo } from './cloud-base.js';
import { diskFromRootfs, ensureRootfs } from './debian-base.js';
import { runTool } from './exec.js';
import type { AccelChoice } from './kvm.js';
import { slug } from '../config/image-ref.js';
import { cachePaths, entriesWithPrefix, ensureDir, logDir, publishDir, workDir, type CachePaths } from './paths.js';
import { planInputs, provisionPlan, type ProvisionPlan } from './payload.js';
import { bootAndProvision, secs } from './rootdisk-provision.js';
import { qemuSettings, type BaseKind } from './settings.js';
import { kernelAppend, type BootSpec } from './vm.js';

export const PROVISION_USER = 'idekube-provision';

export interface Reporter {
  /** A step, always shown (unless --quiet). */
  step(msg: string): void;
  /** Detail (--verbose): tool output lines. */
  detail(msg: string): void;
}

export const silent: Reporter = { step: () => {}, detail: () => {} };

export interface RootDiskOptions {
  arch: Arch;
  /** --base (default: QEMU_BASE from .dockerargs, else debian). */
  base?: string;
  accel: AccelChoice;
  rebuild?: boolean;
  /** Only the base disk (no boot, no provisioning). */
  baseOnly?: boolean;
  memory: string;
  cpus: number;
  sshTimeoutMs: number;
  provisionTimeoutMs: number;
  shutdownTimeoutMs: number;
  report: Reporter;
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUTS = { sshMs: 300_000, provisionMs: 3_600_000, shutdownMs: 120_000 } as const;

export interface DiskMeta {
  key: string;
  flavor: string | null;
  arch: Arch;
  base: Record<string, unknown>;
  boot: 'kernel' | 'firmware';
  /** Kernel command line (kernel boot). */
  append?: string;
  diskSize: string;
  accel?: string;
  created: string;
  /** Seconds per step of the build that made it. */
  timings: Record<string, number>;
}

export interface RootDisk {
  dir: string;
  disk: string;
  kernel?: string;
  initrd?: string;
  meta: DiskMeta;
  cached: boolean;
  /** Where this build's logs are (only for a fresh build). */
  logs?: string;
}

function readEntry(dir: string, key: string): RootDisk | undefined {
  const metaFile = join(dir, 'disk.json');
  if (!existsSync(metaFile) || !existsSync(join(dir, 'disk.qcow2'))) return undefined;
  let meta: DiskMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as DiskMeta;
  } catch {
    return undefined;
  }
  if (meta.key !== key) return undefined;
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  if (meta.boot === 'kernel' && (!existsSync(kernel) || !existsSync(initrd))) return undefined;
  return { dir, disk: join(dir, 'disk.qcow2'), ...(meta.boot === 'kernel' ? { kernel, initrd } : {}), meta, cached: true };
}

/**
 * How to boot a disk. Firmware boot on arm64 needs a writable UEFI variable store: a copy of the
 * distribution's template is made in `varsDir` (the build's work folder, or the run folder).
 */
export function bootSpecOf(d: Pick<RootDisk, 'kernel' | 'initrd' | 'meta'>, varsDir?: string): BootSpec {
  if (d.meta.boot === 'kernel')
    return { kind: 'kernel', kernel: d.kernel!, initrd: d.initrd!, append: d.meta.append ?? kernelAppend(d.meta.arch) };
  if (d.meta.arch !== 'arm64' || !varsDir) return { kind: 'firmware' };
  const code = firstExisting(ARCHES.arm64.firmwareCode);
  const template = firstExisting(ARCHES.arm64.firmwareVars);
  if (!code || !template)
    throw new RunError('no aarch64 UEFI firmware to boot the cloud image with', { fix: `apt-get install ${ARCHES.arm64.firmwarePackage}` });
  const vars = join(varsDir, 'efivars.fd');
  if (!existsSync(vars)) copyFileSync(template, vars);
  return { kind: 'firmware', firmwareCode: code, firmwareVars: vars };
}

interface BaseSource {
  desc: Record<string, unknown>;
  boot: 'kernel' | 'firmware';
  /** Makes work/disk.qcow2 (+ vmlinuz/initrd.img for kernel boot). */
  make(work: string, logFile: string): Promise<void>;
}

async function baseSource(
  project: Project,
  flavorId: string,
  kind: BaseKind,
  opts: RootDiskOptions,
  paths: CachePaths,
  logs: () => string,
): Promise<BaseSource> {
  const settings = qemuSettings(project, flavorId, opts.base);
  const art = qemuArtifacts(project.root);
  const sig = opts.signal ? { signal: opts.signal } : {};
  if (kind === 'debian') {
    const t0 = Date.now();
    const log = join(logs(), 'mmdebstrap.log');
    const rootfs = await ensureRootfs(paths, opts.arch, settings, art.guest, {
      logFile: log,
      onLine: (l) => opts.report.detail(l),
      onBuild: () =>
        opts.report.step(
          `building the Debian ${settings.debianSuite} ${opts.arch} rootfs with mmdebstrap${opts.arch === hostArch() ? '' : ' (under emulation: several minutes)'}; log: ${log}`,
        ),
      ...sig,
    });
    opts.report.step(
      rootfs.cached
        ? `Debian ${settings.debianSuite} ${opts.arch} rootfs: cached (${rootfs.tarball})`
        : `Debian ${settings.debianSuite} ${opts.arch} rootfs built with mmdebstrap in ${secs(Date.now() - t0)} s`,
    );
    return {
      desc: { kind: 'debian', suite: settings.debianSuite, rootfsSha256: rootfs.sha256 },
      boot: 'kernel',
      make: async (work, logFile) => {
        await diskFromRootfs(rootfs.tarball, work, settings.diskSizeBytes, { logFile, ...sig });
      },
    };
  }
  const t0 = Date.now();
  const img = await ensureCloudImage(paths, settings, opts.arch, sig);
  opts.report.step(
    img.cached
      ? `cloud image ${img.url}: cached, sha256 ${img.sha256.slice(0, 12)}…`
      : `cloud image ${img.url} downloaded and verified in ${secs(Date.now() - t0)} s`,
  );
  return {
    desc: { kind: 'cloud', url: img.url, sha256: img.sha256 },
    boot: 'firmware',
    make: async (work, logFile) => {
      await diskFromCloudImage(img.file, work, settings.diskSizeBytes, { logFile, ...sig });
    },
  };
}

/** The root disk of `flavorId` for `opts.arch`: from the cache, or built now. */
export async function ensureRootDisk(project: Project, flavorId: string, opts: RootDiskOptions): Promise<RootDisk> {
  const flavor = checkedFlavor(project, flavorId, opts.arch);
  const settings = qemuSettings(project, flavorId, opts.base);
  const paths = cachePaths(project.root);
  const art = qemuArtifacts(project.root);
  const parent = parentOf(flavor);
  let logs: string | undefined;
  const logsDir = () => (logs ??= logDir(paths, `${slug(flavorId)}-${opts.arch}`));
  const base =
    parent && !opts.baseOnly
      ? await parentSource(project, parent, settings.diskSizeBytes, opts)
      : await baseSource(project, flavorId, settings.base, opts, paths, logsDir);
  const plan = opts.baseOnly ? undefined : provisionPlan(project, flavorId, Boolean(parent));
  const key = cacheKey(project, art, opts.arch, base, settings.diskSize, plan);
  const entryPrefix = opts.baseOnly ? `base-${String(base.desc.kind)}-${opts.arch}` : `${slug(flavorId)}-${opts.arch}`;
  const final = join(paths.disks, `${entryPrefix}-${key}`);
  if (!opts.rebuild) {
    const hit = readEntry(final, key);
    if (hit) {
      opts.report.step(`cache hit: ${opts.baseOnly ? `base disk (${base.desc.kind})` : flavorId} ${opts.arch} → ${hit.disk}`);
      return hit;
    }
  }
  const work = workDir(paths, entryPrefix);
  const build: DiskBuild = {
    project,
    flavorId,
    opts,
    art,
    paths,
    base,
    plan,
    key,
    diskSize: settings.diskSize,
    entryPrefix,
    final,
    work,
    buildLog: join(logsDir(), 'build.log'),
    logsDir,
  };
  try {
    return await buildDisk(build);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    if (e instanceof RunError && logs) {
      throw new RunError(`${e.message}\n(logs: ${logs})`, { ...(e.fix ? { fix: e.fix } : {}), cause: e });
    }
    throw e;
  }
}

/** The flavor, if it exists and is built for `arch`. */
function checkedFlavor(project: Project, flavorId: string, arch: Arch): FlavorDef {
  const { catalog } = project;
  const flavor = catalog.flavors.get(flavorId);
  if (!flavor) throw new InputError(`unknown flavor ${JSON.stringify(flavorId)}`, undefined, `use one of: ${catalog.order.join(', ')}`);
  const platforms = platformsOf(catalog, flavorId);
  if (!platforms.includes(`linux/${arch}`)) {
    throw new InputError(
      `${flavorId} is not built for linux/${arch} (its platforms: ${platforms.join(', ')})`,
      { file: flavor.file },
      `pass --arch ${platforms[0]!.split('/')[1]}`,
    );
  }
  return flavor;
}

/** A child flavor starts from its parent's disk (built first if need be). */
async function parentSource(project: Project, parent: string, diskSizeBytes: number, opts: RootDiskOptions): Promise<BaseSource> {
  const p = await ensureRootDisk(project, parent, { ...opts, rebuild: false });
  opts.report.step(`parent ${parent} (${opts.arch}): ${p.cached ? 'cached' : 'built'} ${p.disk}`);
  return {
    desc: { kind: 'parent', flavor: parent, key: p.meta.key },
    boot: p.meta.boot,
    make: async (work, logFile) => {
      // a full copy: the child's disk never depends on the parent's cache entry staying in place
      await runTool('qemu-img', ['convert', '-O', 'qcow2', p.disk, join(work, 'disk.qcow2')], {
        what: 'copying the parent disk',
        timeoutMs: 10 * 60_000,
        logFile,
      });
      const info = await imageInfo(join(work, 'disk.qcow2'));
      if (diskSizeBytes > info.virtualSize)
        await runTool('qemu-img', ['resize', join(work, 'disk.qcow2'), String(diskSizeBytes)], {
          what: 'qemu-img resize',
          timeoutMs: 60_000,
          logFile,
        });
      if (p.kernel && p.initrd) {
        copyFileSync(p.kernel, join(work, 'vmlinuz'));
        copyFileSync(p.initrd, join(work, 'initrd.img'));
      }
    },
  };
}

/** The cache key: every input of the disk. */
function cacheKey(
  project: Project,
  art: QemuArtifacts,
  arch: Arch,
  base: BaseSource,
  diskSize: string,
  plan: ProvisionPlan | undefined,
): string {
  return keyOf({
    code: QEMU_CODE_VERSION,
    // what goes into the disk: the guest files, the provisioning driver, the seed templates
    qemuArtifacts: [hashTree(art.guest), hashTree(art.provision), hashTree(art.userData), hashTree(art.metaData)],
    arch,
    base: base.desc,
    diskSize,
    plan: plan ? planInputs(project, plan) : 'base-only',
  });
}

/** One build of a root disk, in a work folder that moves into the cache when done. */
interface DiskBuild {
  project: Project;
  flavorId: string;
  opts: RootDiskOptions;
  art: QemuArtifacts;
  paths: CachePaths;
  base: BaseSource;
  /** undefined: the base disk only (--base-only). */
  plan: ProvisionPlan | undefined;
  key: string;
  diskSize: string;
  entryPrefix: string;
  /** The cache entry's folder. */
  final: string;
  work: string;
  buildLog: string;
  logsDir: () => string;
}

async function buildDisk(b: DiskBuild): Promise<RootDisk> {
  const { opts, work } = b;
  opts.report.step(`building ${opts.baseOnly ? 'the base disk' : `the root disk of ${b.flavorId}`} (${opts.arch}); logs: ${b.logsDir()}`);
  const timings: Record<string, number> = {};
  const t = Date.now();
  await b.base.make(work, b.buildLog);
  timings.baseDisk = secs(Date.now() - t);
  opts.report.step(`base disk ready in ${timings.baseDisk} s`);
  const meta: DiskMeta = {
    key: b.key,
    flavor: opts.baseOnly ? null : b.flavorId,
    arch: opts.arch,
    base: b.base.desc,
    boot: b.base.boot,
    ...(b.base.boot === 'kernel' ? { append: kernelAppend(opts.arch) } : {}),
    diskSize: b.diskSize,
    created: '',
    timings,
  };
  if (b.plan) {
    const bootSpec = bootSpecOf({ kernel: join(work, 'vmlinuz'), initrd: join(work, 'initrd.img'), meta }, work);
    await bootAndProvision({ ...b, plan: b.plan, bootSpec, user: PROVISION_USER, meta, timings });
  }
  meta.created = new Date().toISOString();
  writeFileSync(join(work, 'disk.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return publishEntry(b);
}

/** Moves the finished work folder into the cache, replacing an entry with the same key (--rebuild). */
function publishEntry(b: DiskBuild): RootDisk {
  const { final, opts } = b;
  // --rebuild replaces an entry with the same key: the old one moves aside first, then goes
  const old = opts.rebuild && existsSync(final) ? `${final}.replaced-${process.pid}` : undefined;
  if (old) renameSync(final, old);
  ensureDir(b.paths.disks);
  const dir = publishDir(b.work, final);
  if (old) rmSync(old, { recursive: true, force: true });
  prune(b.paths.disks, b.entryPrefix, 2);
  const entry = readEntry(dir, b.key);
  if (!entry) throw new RunError(`internal: the finished disk in ${dir} does not read back`);
  opts.report.step(`root disk: ${entry.disk}`);
  return { ...entry, cached: false, logs: b.logsDir() };
}

/** Keeps the newest `keep` entries of one flavor/arch; older ones would only be used if inputs went back. */
function prune(dir: string, prefix: string, keep: number): void {
  for (const old of entriesWithPrefix(dir, prefix).slice(keep)) rmSync(old, { recursive: true, force: true });
}
