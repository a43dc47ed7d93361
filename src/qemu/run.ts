/**
 * `idekube qemu run`: boot a flavor's cached root disk locally, for debugging. The serial console is the
 * terminal (Ctrl-A x quits, Ctrl-A c toggles the QEMU monitor), SSH and HTTP are forwarded from loopback
 * ports, and a seed installs a project-local debug key for idekube and for the sudo-capable idekube-provision.
 * The guest's writes are discarded unless --persist (an overlay in .idekube/qemu/run/). --check boots,
 * checks SSH (and nginx on a provisioned disk), powers off cleanly and reports: the scripted form.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../config/errors.js';
import type { Project } from '../config/project.js';
import type { Arch } from '../config/platform.js';
import { qemuArtifacts } from './artifacts.js';
import { bootVm, powerOff, waitForHttp } from './boot.js';
import { runTool } from './exec.js';
import { makeKeyPair } from './keys.js';
import { chooseAccel } from './kvm.js';
import { slug } from '../config/image-ref.js';
import { cachePaths, ensureDir, logDir } from './paths.js';
import { bootSpecOf, ensureRootDisk, PROVISION_USER, type Reporter, type RootDiskOptions } from './rootdisk.js';
import { makeSeed } from './seed.js';
import { sshRun, waitForSsh, type SshTarget } from './ssh.js';
import { IMAGE_USER } from '../generate/services.js';

export interface RunOptions {
  disk: RootDiskOptions;
  sshPort?: number;
  webPort?: number;
  persist: boolean;
  check: boolean;
  report: Reporter;
  /** Instructions for the person at the terminal. */
  print: (s: string) => void;
  signal?: AbortSignal;
  /** Called right before the console takes over the terminal. */
  onInteractive?: () => void;
}

export interface RunResult {
  flavor: string;
  arch: Arch;
  disk: string;
  accel: string;
  sshPort: number;
  webPort: number;
  bootToSshS?: number;
  http?: { status: number; server: string };
  /** `uname -m` and `uname -r` of the guest (--check). */
  guest?: { machine: string; kernel: string };
  shutdownS?: number;
  exitCode?: number | null;
}

export async function runVm(project: Project, flavorId: string, o: RunOptions): Promise<RunResult> {
  const d = await ensureRootDisk(project, flavorId, o.disk);
  const arch = o.disk.arch;
  const paths = cachePaths(project.root);
  const runDir = ensureDir(join(paths.run, `${slug(flavorId)}-${arch}${o.disk.baseOnly ? '-base' : ''}`));
  const sig = o.signal ? { signal: o.signal } : {};
  const keyFile = await debugKey(runDir, o.signal);
  const pub = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const seedDir = ensureDir(join(runDir, 'seed'));
  const seed = await makeSeed(
    seedDir,
    qemuArtifacts(project.root),
    { instanceId: `idekube-run-${randomBytes(4).toString('hex')}`, hostname: 'idekube-vm', provisionKey: pub, authorizedKeys: pub },
    o.signal,
  );
  const { disk, snapshot } = await runDisk(d, runDir, o);
  const boot = bootSpecOf(d, runDir);
  const accel = await chooseAccel(o.disk.accel, arch, boot, d.disk, { recordFile: join(paths.root, 'kvm-probe.json'), ...sig });
  o.report.step(`accelerator: ${accel.reason}`);
  const logs = logDir(paths, `run-${slug(flavorId)}-${arch}`);
  const session = await bootVm({
    arch,
    accel: accel.accel,
    memory: o.disk.memory,
    cpus: o.disk.cpus,
    disk,
    boot,
    seed,
    snapshot,
    logDir: logs,
    ...(o.sshPort ? { sshPort: o.sshPort } : {}),
    ...(o.webPort ? { webPort: o.webPort } : {}),
    inheritStdio: !o.check,
  });
  const base: RunResult = { flavor: flavorId, arch, disk, accel: accel.accel, sshPort: session.sshPort, webPort: session.webPort };
  const user = o.disk.baseOnly ? PROVISION_USER : IMAGE_USER;
  if (!o.check) return runInteractive(flavorId, session, base, user, keyFile, o);
  return runCheck(session, base, keyFile, logs, o);
}

/** A project-local debug key, kept between runs; made anew where either half is missing. */
async function debugKey(runDir: string, signal: AbortSignal | undefined): Promise<string> {
  const keyFile = join(runDir, 'id_ed25519');
  if (!existsSync(keyFile) || !existsSync(`${keyFile}.pub`)) {
    rmSync(keyFile, { force: true });
    rmSync(`${keyFile}.pub`, { force: true });
    await makeKeyPair(runDir, 'idekube-qemu-run', signal);
  }
  return keyFile;
}

type RootDisk = Awaited<ReturnType<typeof ensureRootDisk>>;
type Session = Awaited<ReturnType<typeof bootVm>>;

/** The disk: the cached one with writes discarded, or a persistent overlay on it (remade when the root disk changed). */
async function runDisk(d: RootDisk, runDir: string, o: RunOptions): Promise<{ disk: string; snapshot: boolean }> {
  let disk = d.disk;
  let snapshot = true;
  if (o.persist) {
    const overlay = join(runDir, 'overlay.qcow2');
    const idFile = join(runDir, 'overlay.disk-id');
    if (existsSync(overlay) && (!existsSync(idFile) || readFileSync(idFile, 'utf8').trim() !== d.meta.key)) {
      const kept = join(runDir, `overlay.${Date.now()}.qcow2`);
      renameSync(overlay, kept);
      o.report.step(`the root disk changed since ${overlay} was made; it is kept as ${kept} and a new overlay starts`);
    }
    if (!existsSync(overlay)) {
      await runTool('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', d.disk, `${overlay}.tmp`], {
        what: 'creating the overlay',
        timeoutMs: 60_000,
      });
      renameSync(`${overlay}.tmp`, overlay);
      writeFileSync(idFile, `${d.meta.key}\n`);
    }
    disk = overlay;
    snapshot = false;
  }
  return { disk, snapshot };
}

/** Without --check: the console is the user's until the VM exits (or the run is aborted). */
async function runInteractive(
  flavorId: string,
  session: Session,
  base: RunResult,
  user: string,
  keyFile: string,
  o: RunOptions,
): Promise<RunResult> {
  const arch = base.arch;
  o.print(
    `qemu: ${flavorId} (${arch}) is booting, pid ${session.vm.pid}. The serial console follows; Ctrl-A x quits, Ctrl-A c toggles the monitor.`,
  );
  o.print(
    `qemu:   ssh -i ${keyFile} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p ${session.sshPort} ${user}@127.0.0.1${user === PROVISION_USER ? '' : `   (or ${PROVISION_USER}, with sudo)`}`,
  );
  o.print(`qemu:   http://127.0.0.1:${session.webPort}/`);
  o.onInteractive?.();
  const onAbort = () => void session.vm.kill();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await session.vm.exited;
  o.signal?.removeEventListener('abort', onAbort);
  return { ...base, exitCode: exit.code };
}

/** --check: SSH and (for an image disk) nginx's landing page answer, then the guest powers off cleanly. */
async function runCheck(session: Session, base: RunResult, keyFile: string, logs: string, o: RunOptions): Promise<RunResult> {
  const sig = o.signal ? { signal: o.signal } : {};
  try {
    const target: SshTarget = { port: session.sshPort, user: PROVISION_USER, keyFile, knownHosts: join(logs, 'known_hosts') };
    const ms = await waitForSsh(session.vm, target, o.disk.sshTimeoutMs, sig);
    const result: RunResult = { ...base, bootToSshS: Math.round(ms / 100) / 10 };
    const u = await sshRun(target, ['uname', '-m', '-r'], { what: 'uname', timeoutMs: 30_000, ...sig });
    const [kernel = '', machine = ''] = u.stdout.trim().split(/\s+/);
    result.guest = { machine, kernel };
    o.report.step(`SSH answered after ${result.bootToSshS} s (${machine} guest, kernel ${kernel})`);
    if (!o.disk.baseOnly) {
      result.http = await waitForHttp(session.webPort, 60_000);
      o.report.step(`http://127.0.0.1:${session.webPort}/ answered ${result.http.status} (${result.http.server})`);
      if (result.http.status !== 200 || !/nginx/i.test(result.http.server))
        throw new RunError(
          `expected nginx's landing page (200) at /, got ${result.http.status} from ${result.http.server || 'an unknown server'}`,
        );
    }
    const off = await powerOff(session, target, ['sudo', '-n', 'systemctl', 'poweroff', '--no-block'], o.disk.shutdownTimeoutMs, sig);
    result.shutdownS = Math.round(off / 100) / 10;
    o.report.step(`powered off cleanly in ${result.shutdownS} s`);
    return result;
  } finally {
    if (session.vm.running) await session.vm.kill();
  }
}
