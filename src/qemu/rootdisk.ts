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
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformsOf } from '../config/catalog.js';
import { InputError, RunError } from '../config/errors.js';
import { parentOf } from '../config/model.js';
import type { Project } from '../config/project.js';
import type { Arch } from '../config/tags.js';
import { qemuArtifacts } from './artifacts.js';
import { ARCHES, firstExisting, hostArch } from './arch.js';
import { bootVm, powerOff, waitForHttp, type Session } from './boot.js';
import { QEMU_CODE_VERSION, hashTree, keyOf } from './cache-key.js';
import { diskFromCloudImage, ensureCloudImage, imageInfo } from './cloud-base.js';
import { diskFromRootfs, ensureRootfs } from './debian-base.js';
import { onPath, runTool } from './exec.js';
import { makeKeyPair } from './keys.js';
import { chooseAccel, type AccelChoice } from './kvm.js';
import { cachePaths, entriesWithPrefix, ensureDir, logDir, publishDir, slug, workDir, type CachePaths } from './paths.js';
import { planInputs, provisionPlan, writePayload, type ProvisionPlan } from './payload.js';
import { makeSeed } from './seed.js';
import { qemuSettings, type BaseKind } from './settings.js';
import { sshRun, waitForSsh, type SshTarget } from './ssh.js';
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
  if (d.meta.boot === 'kernel') return { kind: 'kernel', kernel: d.kernel!, initrd: d.initrd!, append: d.meta.append ?? kernelAppend(d.meta.arch) };
  if (d.meta.arch !== 'arm64' || !varsDir) return { kind: 'firmware' };
  const code = firstExisting(ARCHES.arm64.firmwareCode);
  const template = firstExisting(ARCHES.arm64.firmwareVars);
  if (!code || !template) throw new RunError('no aarch64 UEFI firmware to boot the cloud image with', { fix: `apt-get install ${ARCHES.arm64.firmwarePackage}` });
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

const secs = (ms: number) => Math.round(ms / 100) / 10;

async function baseSource(project: Project, flavorId: string, kind: BaseKind, opts: RootDiskOptions, paths: CachePaths, logs: () => string): Promise<BaseSource> {
  const settings = qemuSettings(project, flavorId, opts.base);
  const art = qemuArtifacts(project.root);
  const sig = opts.signal ? { signal: opts.signal } : {};
  if (kind === 'debian') {
    const t0 = Date.now();
    const log = join(logs(), 'mmdebstrap.log');
    const rootfs = await ensureRootfs(paths, opts.arch, settings, art.guest, {
      logFile: log,
      onLine: (l) => opts.report.detail(l),
      onBuild: () => opts.report.step(`building the Debian ${settings.debianSuite} ${opts.arch} rootfs with mmdebstrap${opts.arch === hostArch() ? '' : ' (under emulation: several minutes)'}; log: ${log}`),
      ...sig,
    });
    opts.report.step(rootfs.cached ? `Debian ${settings.debianSuite} ${opts.arch} rootfs: cached (${rootfs.tarball})` : `Debian ${settings.debianSuite} ${opts.arch} rootfs built with mmdebstrap in ${secs(Date.now() - t0)} s`);
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
  opts.report.step(img.cached ? `cloud image ${img.url}: cached, sha256 ${img.sha256.slice(0, 12)}…` : `cloud image ${img.url} downloaded and verified in ${secs(Date.now() - t0)} s`);
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
  const { catalog } = project;
  const flavor = catalog.flavors.get(flavorId);
  if (!flavor) throw new InputError(`unknown flavor ${JSON.stringify(flavorId)}`, undefined, `use one of: ${catalog.order.join(', ')}`);
  const platforms = platformsOf(catalog, flavorId);
  if (!platforms.includes(`linux/${opts.arch}`)) {
    throw new InputError(`${flavorId} is not built for linux/${opts.arch} (its platforms: ${platforms.join(', ')})`, { file: flavor.file }, `pass --arch ${platforms[0]!.split('/')[1]}`);
  }
  const settings = qemuSettings(project, flavorId, opts.base);
  const paths = cachePaths(project.root);
  const art = qemuArtifacts(project.root);
  const parent = parentOf(flavor);
  let logs: string | undefined;
  const logsDir = () => (logs ??= logDir(paths, `${slug(flavorId)}-${opts.arch}`));

  // ---- the base this disk starts from
  let base: BaseSource;
  if (parent && !opts.baseOnly) {
    const p = await ensureRootDisk(project, parent, { ...opts, rebuild: false });
    opts.report.step(`parent ${parent} (${opts.arch}): ${p.cached ? 'cached' : 'built'} ${p.disk}`);
    base = {
      desc: { kind: 'parent', flavor: parent, key: p.meta.key },
      boot: p.meta.boot,
      make: async (work, logFile) => {
        // a full copy: the child's disk never depends on the parent's cache entry staying in place
        await runTool('qemu-img', ['convert', '-O', 'qcow2', p.disk, join(work, 'disk.qcow2')], { what: 'copying the parent disk', timeoutMs: 10 * 60_000, logFile });
        const info = await imageInfo(join(work, 'disk.qcow2'));
        if (settings.diskSizeBytes > info.virtualSize) await runTool('qemu-img', ['resize', join(work, 'disk.qcow2'), String(settings.diskSizeBytes)], { what: 'qemu-img resize', timeoutMs: 60_000, logFile });
        if (p.kernel) {
          copyFileSync(p.kernel, join(work, 'vmlinuz'));
          copyFileSync(p.initrd!, join(work, 'initrd.img'));
        }
      },
    };
  } else {
    base = await baseSource(project, flavorId, settings.base, opts, paths, logsDir);
  }

  // ---- the cache key: every input
  const plan: ProvisionPlan | undefined = opts.baseOnly ? undefined : provisionPlan(project, flavorId, Boolean(parent));
  const inputs = {
    code: QEMU_CODE_VERSION,
    // what goes into the disk: the guest files, the provisioning driver, the seed templates
    qemuArtifacts: [hashTree(art.guest), hashTree(art.provision), hashTree(art.userData), hashTree(art.metaData)],
    arch: opts.arch,
    base: base.desc,
    diskSize: settings.diskSize,
    plan: plan ? planInputs(project, plan) : 'base-only',
  };
  const key = keyOf(inputs);
  const entryPrefix = opts.baseOnly ? `base-${String(base.desc.kind)}-${opts.arch}` : `${slug(flavorId)}-${opts.arch}`;
  const final = join(paths.disks, `${entryPrefix}-${key}`);
  if (!opts.rebuild) {
    const hit = readEntry(final, key);
    if (hit) {
      opts.report.step(`cache hit: ${opts.baseOnly ? `base disk (${base.desc.kind})` : flavorId} ${opts.arch} → ${hit.disk}`);
      return hit;
    }
  }

  // ---- build in a work folder
  const work = workDir(paths, entryPrefix);
  const buildLog = join(logsDir(), 'build.log');
  const timings: Record<string, number> = {};
  let session: Session | undefined;
  const sig = opts.signal ? { signal: opts.signal } : {};
  try {
    opts.report.step(`building ${opts.baseOnly ? 'the base disk' : `the root disk of ${flavorId}`} (${opts.arch}); logs: ${logsDir()}`);
    let t = Date.now();
    await base.make(work, buildLog);
    timings.baseDisk = secs(Date.now() - t);
    opts.report.step(`base disk ready in ${timings.baseDisk} s`);
    const meta: DiskMeta = {
      key,
      flavor: opts.baseOnly ? null : flavorId,
      arch: opts.arch,
      base: base.desc,
      boot: base.boot,
      ...(base.boot === 'kernel' ? { append: kernelAppend(opts.arch) } : {}),
      diskSize: settings.diskSize,
      created: '',
      timings,
    };
    const disk = join(work, 'disk.qcow2');
    if (!opts.baseOnly) {
      const bootSpec = bootSpecOf({ kernel: join(work, 'vmlinuz'), initrd: join(work, 'initrd.img'), meta }, work);
      // per-build key and seed
      const keyDir = ensureDir(join(work, 'ssh'));
      const pair = await makeKeyPair(keyDir, `idekube-build-${key}`, opts.signal);
      const seedDir = ensureDir(join(work, 'seed'));
      const seed = await makeSeed(seedDir, art, { instanceId: `idekube-${key}-${randomBytes(4).toString('hex')}`, hostname: 'idekube-vm', provisionKey: pair.publicText }, opts.signal);
      // accelerator
      t = Date.now();
      const accel = await chooseAccel(opts.accel, opts.arch, bootSpec, disk, { recordFile: join(paths.root, 'kvm-probe.json'), ...sig });
      timings.accelProbe = secs(Date.now() - t);
      meta.accel = accel.accel;
      opts.report.step(`accelerator: ${accel.reason}`);
      // boot
      t = Date.now();
      session = await bootVm({ arch: opts.arch, accel: accel.accel, memory: opts.memory, cpus: opts.cpus, disk, boot: bootSpec, seed, logDir: logsDir() });
      opts.report.step(`QEMU started (pid ${session.vm.pid}), SSH on 127.0.0.1:${session.sshPort}, HTTP on 127.0.0.1:${session.webPort}; serial console: ${session.serialLog}`);
      const target: SshTarget = { port: session.sshPort, user: PROVISION_USER, keyFile: pair.privateKey, knownHosts: join(keyDir, 'known_hosts') };
      await waitForSsh(session.vm, target, opts.sshTimeoutMs, sig);
      timings.bootToSsh = secs(Date.now() - t);
      opts.report.step(`SSH answered after ${timings.bootToSsh} s`);
      // provision
      t = Date.now();
      await provision(project, plan!, session, target, work, logsDir(), opts);
      timings.provision = secs(Date.now() - t);
      opts.report.step(`provisioned in ${timings.provision} s`);
      if (base.boot === 'kernel') await fetchKernel(target, work, opts);
      // power off cleanly
      t = Date.now();
      await powerOff(session, target, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'finish'], opts.shutdownTimeoutMs, { logFile: join(logsDir(), 'provision.log'), ...sig });
      timings.shutdown = secs(Date.now() - t);
      opts.report.step(`guest powered off cleanly in ${timings.shutdown} s`);
      session = undefined;
      rmSync(keyDir, { recursive: true, force: true });
      rmSync(seedDir, { recursive: true, force: true });
      rmSync(join(work, 'payload'), { recursive: true, force: true });
      rmSync(join(work, 'payload.tar'), { force: true });
      rmSync(join(work, 'efivars.fd'), { force: true });
    }
    meta.created = new Date().toISOString();
    writeFileSync(join(work, 'disk.json'), `${JSON.stringify(meta, null, 2)}\n`);
    // --rebuild replaces an entry with the same key: the old one moves aside first, then goes
    const old = opts.rebuild && existsSync(final) ? `${final}.replaced-${process.pid}` : undefined;
    if (old) renameSync(final, old);
    ensureDir(paths.disks);
    const dir = publishDir(work, final);
    if (old) rmSync(old, { recursive: true, force: true });
    prune(paths.disks, entryPrefix, 2);
    const entry = readEntry(dir, key);
    if (!entry) throw new RunError(`internal: the finished disk in ${dir} does not read back`);
    opts.report.step(`root disk: ${entry.disk}`);
    return { ...entry, cached: false, logs: logsDir() };
  } catch (e) {
    if (session) await session.vm.kill();
    rmSync(work, { recursive: true, force: true });
    if (e instanceof RunError && logs) {
      throw new RunError(`${e.message}\n(logs: ${logs})`, { ...(e.fix ? { fix: e.fix } : {}), cause: e });
    }
    throw e;
  }
}

/** Keeps the newest `keep` entries of one flavor/arch; older ones would only be used if inputs went back. */
function prune(dir: string, prefix: string, keep: number): void {
  for (const old of entriesWithPrefix(dir, prefix).slice(keep)) rmSync(old, { recursive: true, force: true });
}

async function provision(project: Project, plan: ProvisionPlan, s: Session, t: SshTarget, work: string, logs: string, opts: RootDiskOptions): Promise<void> {
  const staging = ensureDir(join(work, 'payload'));
  writePayload(project, plan, staging);
  const tar = join(work, 'payload.tar');
  const log = join(logs, 'provision.log');
  const sig = opts.signal ? { signal: opts.signal } : {};
  await runTool('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', staging, '-cf', tar, 'idekube'], { what: 'packing the provisioning payload', timeoutMs: 120_000, logFile: log, ...sig });
  await sshRun(t, ['sudo', '-n', 'rm', '-rf', '/tmp/idekube'], { what: 'preparing /tmp/idekube', timeoutMs: 60_000, logFile: log, ...sig });
  await sshRun(t, ['sudo', '-n', 'tar', '--no-same-owner', '-xf', '-', '-C', '/tmp'], { what: 'uploading the layers', timeoutMs: 600_000, inputFile: tar, logFile: log, ...sig });
  const layers = plan.steps.map((x) => x.layer);
  opts.report.step(`provisioning from the manifest: ${layers.length ? `layers ${layers.join(', ')}` : 'no layers of its own'}; services ${[...plan.systemUnits, ...plan.units].join(', ')}`);
  try {
    await sshRun(t, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'run'], {
      what: 'provisioning',
      timeoutMs: opts.provisionTimeoutMs,
      logFile: log,
      onLine: (line) => {
        const m = /^::idekube-step:: (.*)$/.exec(line);
        if (m) opts.report.step(`  ${m[1]}`);
        else opts.report.detail(line);
      },
      ...sig,
    });
  } catch (e) {
    if (!s.vm.running) throw new RunError(`the VM stopped during provisioning\n${(e as Error).message}`);
    throw e;
  }
  if (plan.playbook) await runPlaybook(plan, s, t, work, log, opts);
  const http = await waitForHttp(s.webPort, 60_000);
  if (http.status !== 200 || !/nginx/i.test(http.server)) {
    throw new RunError(`http://127.0.0.1:${s.webPort}/ answered ${http.status} (server ${http.server || 'unknown'}); expected nginx's landing page (200) at /`);
  }
  opts.report.step(`nginx serves the landing page at / through the forward, as the container does`);
}

async function runPlaybook(plan: ProvisionPlan, s: Session, t: SshTarget, work: string, log: string, opts: RootDiskOptions): Promise<void> {
  if (!onPath('ansible-playbook')) {
    throw new RunError(`${plan.flavorId} has a VM-only playbook (${join(plan.vmStepDir!, 'playbook.yml')}) but ansible-playbook is not installed`, { fix: 'apt-get install ansible (the upstream silently skipped this step; idekube does not)' });
  }
  const sig = opts.signal ? { signal: opts.signal } : {};
  await sshRun(t, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'ensure-python'], { what: 'python3 for Ansible', timeoutMs: 600_000, logFile: log, ...sig });
  const inv = join(work, 'inventory.ini');
  // one host line; every value is ours (port, key path), none comes from the manifest
  writeFileSync(inv, `vm ansible_host=127.0.0.1 ansible_port=${s.sshPort} ansible_user=${t.user} ansible_ssh_private_key_file=${t.keyFile} ansible_python_interpreter=/usr/bin/python3\n`);
  opts.report.step('  vm-step: ansible-playbook playbook.yml');
  const argsFile = join(work, 'extra-vars.json');
  writeFileSync(argsFile, JSON.stringify(plan.args));
  await runTool('ansible-playbook', ['-i', inv, '--become', '-e', `@${argsFile}`, join(plan.vmStepDir!, 'playbook.yml')], {
    what: 'the VM-only playbook',
    timeoutMs: opts.provisionTimeoutMs,
    logFile: log,
    env: {
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_SSH_ARGS: `-o UserKnownHostsFile=${t.knownHosts} -o StrictHostKeyChecking=accept-new -o IdentitiesOnly=yes`,
    },
    onLine: (l) => opts.report.detail(l),
    ...sig,
  });
}

const BOOT_FILE = /^\/boot\/(vmlinuz|initrd\.img)-[A-Za-z0-9._+~-]+$/;

/** The kernel and initrd of the provisioned disk (a layer may have upgraded them), for direct kernel boot. */
async function fetchKernel(t: SshTarget, work: string, opts: RootDiskOptions): Promise<void> {
  const sig = opts.signal ? { signal: opts.signal } : {};
  const r = await sshRun(t, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'kernel'], { what: 'finding the kernel', timeoutMs: 60_000, ...sig });
  const [kernel, initrd] = r.stdout.trim().split('\n');
  if (!kernel || !initrd || !BOOT_FILE.test(kernel) || !BOOT_FILE.test(initrd)) throw new RunError(`unexpected kernel paths from the guest: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  for (const [remote, local] of [
    [kernel, 'vmlinuz'],
    [initrd, 'initrd.img'],
  ] as const) {
    const tmp = join(work, `${local}.new`);
    await sshRun(t, ['sudo', '-n', 'cat', '--', remote], { what: `copying ${remote}`, timeoutMs: 300_000, stdoutFile: tmp, ...sig });
    renameSync(tmp, join(work, local));
  }
}
