/**
 * The VM half of a root-disk build: a per-build SSH key and seed, the accelerator, a boot on loopback ports, the
 * layers provisioned over SSH, the kernel fetched back (kernel boot), and a clean power-off.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../config/errors.js';
import type { Project } from '../config/project.js';
import type { QemuArtifacts } from './artifacts.js';
import { bootVm, powerOff, waitForHttp, type Session } from './boot.js';
import { onPath, runTool } from './exec.js';
import { makeKeyPair } from './keys.js';
import { chooseAccel } from './kvm.js';
import { ensureDir, type CachePaths } from './paths.js';
import { writePayload, type ProvisionPlan } from './payload.js';
import type { DiskMeta, RootDiskOptions } from './rootdisk.js';
import { makeSeed } from './seed.js';
import { sshRun, waitForSsh, type SshTarget } from './ssh.js';
import type { Accel, BootSpec } from './vm.js';

/** One root-disk build's VM inputs; `meta.accel` and `timings` are filled in as the steps run. */
export interface VmBuild {
  project: Project;
  plan: ProvisionPlan;
  opts: RootDiskOptions;
  art: QemuArtifacts;
  paths: CachePaths;
  /** The work folder, holding disk.qcow2. */
  work: string;
  logsDir: () => string;
  key: string;
  bootSpec: BootSpec;
  /** The guest account the seed authorizes for provisioning. */
  user: string;
  meta: DiskMeta;
  timings: Record<string, number>;
}

/** Milliseconds as seconds, one decimal (the timings of disk.json). */
export const secs = (ms: number) => Math.round(ms / 100) / 10;

/** Boots the disk in `b.work`, provisions it and powers it off; on failure the VM is stopped (by PID). */
export async function bootAndProvision(b: VmBuild): Promise<void> {
  const { opts, work, timings } = b;
  const sig = opts.signal ? { signal: opts.signal } : {};
  const keyDir = join(work, 'ssh');
  const seedDir = join(work, 'seed');
  const { pair, seed } = await keyAndSeed(b, keyDir, seedDir);
  const accel = await chooseAccelerator(b);
  let t = Date.now();
  const session = await bootVm({
    arch: opts.arch,
    accel,
    memory: opts.memory,
    cpus: opts.cpus,
    disk: join(work, 'disk.qcow2'),
    boot: b.bootSpec,
    seed,
    logDir: b.logsDir(),
  });
  try {
    opts.report.step(
      `QEMU started (pid ${session.vm.pid}), SSH on 127.0.0.1:${session.sshPort}, HTTP on 127.0.0.1:${session.webPort}; serial console: ${session.serialLog}`,
    );
    const target: SshTarget = { port: session.sshPort, user: b.user, keyFile: pair.privateKey, knownHosts: join(keyDir, 'known_hosts') };
    await waitForSsh(session.vm, target, opts.sshTimeoutMs, sig);
    timings.bootToSsh = secs(Date.now() - t);
    opts.report.step(`SSH answered after ${timings.bootToSsh} s`);
    t = Date.now();
    await provision(b.project, b.plan, session, target, work, b.logsDir(), opts);
    timings.provision = secs(Date.now() - t);
    opts.report.step(`provisioned in ${timings.provision} s`);
    if (b.meta.boot === 'kernel') await fetchKernel(target, work, opts);
    t = Date.now();
    await powerOff(session, target, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'finish'], opts.shutdownTimeoutMs, {
      logFile: join(b.logsDir(), 'provision.log'),
      ...sig,
    });
    timings.shutdown = secs(Date.now() - t);
    opts.report.step(`guest powered off cleanly in ${timings.shutdown} s`);
  } catch (e) {
    await session.vm.kill();
    throw e;
  }
  for (const dir of [keyDir, seedDir, join(work, 'payload')]) rmSync(dir, { recursive: true, force: true });
  rmSync(join(work, 'payload.tar'), { force: true });
  rmSync(join(work, 'efivars.fd'), { force: true });
}

/** A per-build key pair, and the NoCloud seed that authorizes it. */
async function keyAndSeed(b: VmBuild, keyDir: string, seedDir: string) {
  const pair = await makeKeyPair(ensureDir(keyDir), `idekube-build-${b.key}`, b.opts.signal);
  const seed = await makeSeed(
    ensureDir(seedDir),
    b.art,
    { instanceId: `idekube-${b.key}-${randomBytes(4).toString('hex')}`, hostname: 'idekube-vm', provisionKey: pair.publicText },
    b.opts.signal,
  );
  return { pair, seed };
}

/** KVM only after a probe; records the choice in the disk's metadata. */
async function chooseAccelerator(b: VmBuild): Promise<Accel> {
  const { opts } = b;
  const t = Date.now();
  const accel = await chooseAccel(opts.accel, opts.arch, b.bootSpec, join(b.work, 'disk.qcow2'), {
    recordFile: join(b.paths.root, 'kvm-probe.json'),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  b.timings.accelProbe = secs(Date.now() - t);
  b.meta.accel = accel.accel;
  opts.report.step(`accelerator: ${accel.reason}`);
  return accel.accel;
}

async function provision(
  project: Project,
  plan: ProvisionPlan,
  s: Session,
  t: SshTarget,
  work: string,
  logs: string,
  opts: RootDiskOptions,
): Promise<void> {
  const staging = ensureDir(join(work, 'payload'));
  writePayload(project, plan, staging);
  const tar = join(work, 'payload.tar');
  const log = join(logs, 'provision.log');
  const sig = opts.signal ? { signal: opts.signal } : {};
  await runTool('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', staging, '-cf', tar, 'idekube'], {
    what: 'packing the provisioning payload',
    timeoutMs: 120_000,
    logFile: log,
    ...sig,
  });
  await sshRun(t, ['sudo', '-n', 'rm', '-rf', '/tmp/idekube'], { what: 'preparing /tmp/idekube', timeoutMs: 60_000, logFile: log, ...sig });
  await sshRun(t, ['sudo', '-n', 'tar', '--no-same-owner', '-xf', '-', '-C', '/tmp'], {
    what: 'uploading the layers',
    timeoutMs: 600_000,
    inputFile: tar,
    logFile: log,
    ...sig,
  });
  const layers = plan.steps.map((x) => x.layer);
  opts.report.step(
    `provisioning from the manifest: ${layers.length ? `layers ${layers.join(', ')}` : 'no layers of its own'}; services ${[...plan.systemUnits, ...plan.units].join(', ')}`,
  );
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
    throw new RunError(
      `http://127.0.0.1:${s.webPort}/ answered ${http.status} (server ${http.server || 'unknown'}); expected nginx's landing page (200) at /`,
    );
  }
  opts.report.step(`nginx serves the landing page at / through the forward, as the container does`);
}

async function runPlaybook(plan: ProvisionPlan, s: Session, t: SshTarget, work: string, log: string, opts: RootDiskOptions): Promise<void> {
  if (!onPath('ansible-playbook')) {
    throw new RunError(
      `${plan.flavorId} has a VM-only playbook (${join(plan.vmStepDir!, 'playbook.yml')}) but ansible-playbook is not installed`,
      { fix: 'apt-get install ansible (the upstream silently skipped this step; idekube does not)' },
    );
  }
  const sig = opts.signal ? { signal: opts.signal } : {};
  await sshRun(t, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'ensure-python'], {
    what: 'python3 for Ansible',
    timeoutMs: 600_000,
    logFile: log,
    ...sig,
  });
  const inv = join(work, 'inventory.ini');
  // one host line; every value is ours (port, key path), none comes from the manifest
  writeFileSync(
    inv,
    `vm ansible_host=127.0.0.1 ansible_port=${s.sshPort} ansible_user=${t.user} ansible_ssh_private_key_file=${t.keyFile} ansible_python_interpreter=/usr/bin/python3\n`,
  );
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
  const r = await sshRun(t, ['sudo', '-n', 'bash', '/tmp/idekube/provision.sh', 'kernel'], {
    what: 'finding the kernel',
    timeoutMs: 60_000,
    ...sig,
  });
  const [kernel, initrd] = r.stdout.trim().split('\n');
  if (!kernel || !initrd || !BOOT_FILE.test(kernel) || !BOOT_FILE.test(initrd))
    throw new RunError(`unexpected kernel paths from the guest: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  for (const [remote, local] of [
    [kernel, 'vmlinuz'],
    [initrd, 'initrd.img'],
  ] as const) {
    const tmp = join(work, `${local}.new`);
    await sshRun(t, ['sudo', '-n', 'cat', '--', remote], { what: `copying ${remote}`, timeoutMs: 300_000, stdoutFile: tmp, ...sig });
    renameSync(tmp, join(work, local));
  }
}
