import { checkNginx } from '../checks/nginx.js';
import { programStates } from '../checks/programs.js';
import { demuxLogs, type TestContainer } from '../container.js';
import { inside, processes, type ProcessInfo } from '../exec.js';
import { describeReadiness, waitReady } from '../ready.js';
import { fail, type CheckResult } from '../types.js';
import { within } from '../wait.js';
import { routesOf, type ScenarioEnv } from './scenario.js';
import { messageOf } from '../../config/errors.js';

/**
 * Compares the copy with the image, run in a helper container with the volume read-only at /rootfs. Fixed
 * script; prints `key=value` lines.
 */
export const VERIFY_COPY = [
  'n() { find "$1" -xdev \\( -type f -o -type l \\) 2>/dev/null | wc -l; }',
  'echo "usr=$(n /usr) copy_usr=$(n /rootfs/usr)"',
  'cmp -s /etc/passwd /rootfs/etc/passwd && echo passwd=same || echo passwd=differs',
  '[ -x /rootfs/startup.sh ] && echo startup=yes || echo startup=no',
  'for d in proc sys dev run tmp; do [ -d "/rootfs/$d" ] || echo "missing=$d"; done',
  'echo "volatile=$(find /rootfs/proc /rootfs/sys -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"',
].join('\n');

export function parseCopy(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)=(\S+)/g)) out[m[1]!] = out[m[1]!] ? `${out[m[1]!]},${m[2]!}` : m[2]!;
  return out;
}

export function copyVerdict(v: Record<string, string>): string {
  const problems: string[] = [];
  if (v.copy_usr !== v.usr) problems.push(`/usr has ${v.usr} entries, the copy ${v.copy_usr}`);
  if (v.passwd !== 'same') problems.push('/etc/passwd differs in the copy');
  if (v.startup !== 'yes') problems.push('no /startup.sh in the copy');
  if (v.missing) problems.push(`mount points missing in the copy: ${v.missing}`);
  if (v.volatile && v.volatile !== '0') problems.push(`${v.volatile} entries of /proc or /sys were copied`);
  if (problems.length) fail(`the copy in /rootfs is incomplete: ${problems.join('; ')}`);
  return `/usr copied (${v.usr} entries), /etc/passwd identical, mount points created`;
}

async function verifyCopy(env: ScenarioEnv, volume: string, timeoutMs: number): Promise<string> {
  const { engine } = env.session;
  const c = await engine.createContainer({
    name: env.session.name(env.base, 'rootfs-verify'),
    Image: env.subject.image,
    Entrypoint: ['sh', '-c', VERIFY_COPY],
    Cmd: [],
    User: '0',
    NetworkDisabled: true,
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/rootfs', ReadOnly: true }] },
    platform: env.subject.platform,
  });
  try {
    await within(c.start(), 60_000, 'the helper container did not start within 60 s');
    await within(c.wait(), timeoutMs, `verifying the copy did not finish within ${Math.round(timeoutMs / 1000)} s`);
    return copyVerdict(
      parseCopy(
        demuxLogs(await within(c.logs({ stdout: true, stderr: true }), 30_000, "reading the helper's output took longer than 30 s")),
      ),
    );
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

/**
 * supervisord and its programs run with /rootfs as their root. A program of another user may not let root read
 * its /proc/PID/root (no CAP_SYS_PTRACE): it inherits its root from supervisord, its parent.
 */
export function chrootVerdict(mains: Array<{ name: string; proc?: ProcessInfo }>, procs: ProcessInfo[]): string {
  const parents = new Set(mains.map((m) => m.proc?.ppid).filter((p): p is number => p !== undefined));
  const sup = procs.filter((p) => parents.has(p.pid));
  const supOutside = sup.filter((p) => p.root !== '/rootfs');
  if (!sup.length) fail('cannot find supervisord, the parent of the programs');
  if (supOutside.length)
    fail(
      `supervisord runs from ${supOutside[0]!.root || 'an unreadable root'}, not from /rootfs: the services are not started from the persistent root`,
    );
  const outside = mains.filter((m) => m.proc?.root && m.proc.root !== '/rootfs');
  if (outside.length)
    fail(`services run from the image's own root, not from /rootfs: ${outside.map((m) => `${m.name} (root ${m.proc!.root})`).join(', ')}`);
  return `supervisord and its programs run chrooted in /rootfs: ${mains.map((m) => m.name).join(', ')}`;
}

const CAPS_REFUSED = /apply caps|operation not permitted/i;

async function startChroot(env: ScenarioEnv, volume: string): Promise<{ c: TestContainer; how: string }> {
  const { session, subject } = env;
  const base = {
    image: subject.image,
    platform: subject.platform,
    env: {},
    publish: true,
    mounts: [{ volume, target: '/rootfs' }],
    gpus: env.gpus,
  };
  const c = await session.create({ ...base, name: session.name(env.base, 'chroot'), privileged: true });
  try {
    await c.start();
    return { c, how: 'privileged' };
  } catch (e) {
    if (!CAPS_REFUSED.test(messageOf(e))) throw e;
    await session.dispose(c, false);
  }
  // This engine cannot grant every capability (a nested or restricted host): the upstream's stage-2 settings.
  const c2 = await session.create({
    ...base,
    name: session.name(env.base, 'chroot', 'sysadmin'),
    capAdd: ['SYS_ADMIN'],
    securityOpt: ['apparmor=unconfined'],
  });
  await c2.start();
  return { c: c2, how: '--cap-add SYS_ADMIN --security-opt apparmor=unconfined (this engine refuses --privileged)' };
}

export async function checkRootfs(
  env: ScenarioEnv,
  initTimeoutMs: number,
): Promise<{ init: Omit<CheckResult, 'name'>; chroot: Omit<CheckResult, 'name'> }> {
  const t0 = Date.now();
  const result = (status: CheckResult['status'], message: string, since: number) => ({ status, message, durationMs: Date.now() - since });
  const { session, subject } = env;
  const volume = await session.volume(env.base, 'rootfs');
  let init: Omit<CheckResult, 'name'>;
  const ic = await session.create({
    name: session.name(env.base, 'init'),
    image: subject.image,
    platform: subject.platform,
    env: { I_AM_INIT_CONTAINER: '1' },
    publish: false,
    mounts: [{ volume, target: '/rootfs', nocopy: true }],
  });
  try {
    await ic.start();
    const code = await ic.waitExit(initTimeoutMs);
    if (code !== 0) {
      init = result(
        'fail',
        `the init container (I_AM_INIT_CONTAINER=1, volume at /rootfs) exited with code ${code}: ${(await ic.logTail(4)).split('\n').join(' | ')}`,
        t0,
      );
    } else {
      const verdict = await verifyCopy(env, volume, initTimeoutMs);
      init = result('pass', `I_AM_INIT_CONTAINER=1 exited 0 after copying / into the volume: ${verdict}`, t0);
    }
  } catch (e) {
    init = result('fail', messageOf(e), t0);
  } finally {
    await session.dispose(ic, env.keep);
  }
  const t1 = Date.now();
  if (init.status !== 'pass') return { init, chroot: result('skipped', 'the init container did not produce a root file system', t1) };

  let chroot: Omit<CheckResult, 'name'>;
  let c: TestContainer | undefined;
  try {
    const started = await startChroot(env, volume);
    c = started.c;
    const ready = await waitReady(c, routesOf(subject.services), { timeoutMs: env.timeoutMs, programs: inside(c).exec });
    if (ready.exited || !ready.nginx) fail(`with /rootfs mounted (${started.how}): ${describeReadiness(ready, c.port)}`);
    await checkNginx(c.port);
    const states = await programStates(inside(c).exec);
    const procs = await processes(inside(c).exec);
    const mains = states.filter((s) => s.pid).map((s) => ({ name: s.name, proc: procs.find((p) => p.pid === s.pid) }));
    if (!mains.length) fail('no supervisord program is running in the persistent-root container');
    chroot = result('pass', `with /rootfs mounted (${started.how}) ${chrootVerdict(mains, procs)}; nginx answers`, t1);
  } catch (e) {
    chroot = result('fail', messageOf(e), t1);
  } finally {
    if (c) await session.dispose(c, env.keep);
  }
  return { init, chroot };
}
