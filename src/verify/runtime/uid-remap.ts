/**
 * A home volume across re-created containers: with IDEKUBE_USER_UID/GID the user takes those ids (what the web
 * terminal's shell writes belongs to them, the home's top folder too), and a NEW container on the same volume does
 * not walk the home again (a file of the image's original uid keeps its owner; the log says "not walked"); the SSH
 * host key is kept in the home, so the new container presents the same one.
 */
import { describeTerminalRun, terminalEval, terminalTarget, terminalWait } from '../checks/terminal.js';
import type { TestContainer } from '../container.js';
import { inside, type Exec } from '../exec.js';
import { describeReadiness, waitReady } from '../ready.js';
import { CheckFailed, fail, type CheckResult, type VerifyService } from '../types.js';
import { needsPrivilege, routesOf, scenarioContainer, type ScenarioEnv } from './scenario.js';
import { messageOf } from '../../config/errors.js';

export const PROBE_FILE = 'idekube-uid-probe';
export const PLANTED_FILE = 'idekube-test-planted';
export const NOT_WALKED = 'not walked';
export const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key.pub';

/** The ids the user is given: 2345, or 2346 when the image's user already has 2345. */
export function remapIds(user: { uid: number; gid: number }): { uid: number; gid: number } {
  return { uid: user.uid === 2345 ? 2346 : 2345, gid: user.gid === 2345 ? 2346 : 2345 };
}

/** The fingerprint in `ssh-keygen -l` output (`256 SHA256:… comment (ED25519)`). */
export function parseFingerprint(text: string): string | undefined {
  return /^\s*\d+\s+(\S+:\S+)/m.exec(text)?.[1];
}

export async function hostKey(exec: Exec, which: string): Promise<string> {
  const r = await exec(['ssh-keygen', '-lf', HOST_KEY], { timeoutMs: 20_000 });
  const fp = parseFingerprint(r.stdout);
  if (r.code !== 0 || !fp)
    fail(
      `the ${which} container has no ed25519 host key (ssh-keygen -lf ${HOST_KEY}: ${(r.stderr || r.stdout).trim().slice(0, 120) || `exit ${r.code}`})`,
    );
  return fp;
}

export function hostKeyVerdict(first: string, second: string): string {
  if (first !== second)
    fail(
      `the re-created container on the same home volume presents another ed25519 host key (${second}, was ${first}): the host keys are not kept in the home (~/.local/share/idekube/ssh-host-keys), so \`ssh\` warns "host key changed" after every restart`,
    );
  return `a re-created container on the same home volume presents the same ed25519 host key (${first})`;
}

/** `stat -c %u:%g` of each path, in order (a missing one: undefined). */
export async function owners(exec: Exec, paths: string[]): Promise<Array<string | undefined>> {
  const r = await exec(['sh', '-c', 'for p in "$@"; do stat -c %u:%g "$p" 2>/dev/null || echo missing; done', 'sh', ...paths], {
    timeoutMs: 20_000,
  });
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => (/^\d+:\d+$/.test(l.trim()) ? l.trim() : undefined));
}

/** Through the terminal: its shell runs as the new uid, and what it creates (and the home) belongs to the new ids. */
export async function remapThroughTerminal(
  port: number,
  terminal: VerifyService,
  exec: Exec,
  home: string,
  ids: { uid: number; gid: number },
  timeoutMs = 30_000,
): Promise<string> {
  const { socket } = terminalTarget(terminal);
  const r = await terminalEval(port, socket, 'id -u', { timeoutMs, before: `touch ~/${PROBE_FILE}` });
  const why = describeTerminalRun(r, socket, timeoutMs);
  if (why) fail(`with IDEKUBE_USER_UID=${ids.uid}: ${why}`);
  if (r.value !== String(ids.uid)) fail(`with IDEKUBE_USER_UID=${ids.uid} the terminal's shell runs as uid ${r.value}`);
  const want = `${ids.uid}:${ids.gid}`;
  const [file, top] = await owners(exec, [`${home}/${PROBE_FILE}`, home]);
  if (file !== want)
    fail(
      `with IDEKUBE_USER_UID=${ids.uid} IDEKUBE_USER_GID=${ids.gid}, ~/${PROBE_FILE} made in the terminal belongs to ${file ?? '(missing)'}, expected ${want}`,
    );
  if (top !== want)
    fail(
      `with IDEKUBE_USER_UID=${ids.uid} IDEKUBE_USER_GID=${ids.gid}, the home ${home} belongs to ${top ?? '(missing)'}, expected ${want}`,
    );
  return `the terminal's shell runs as uid ${ids.uid}; ~/${PROBE_FILE} and ${home} belong to ${want}`;
}

/** A file of the image's original uid, put into the home as root (to see whether the next start walks the home). */
export async function plant(exec: Exec, home: string, user: { uid: number; gid: number }): Promise<void> {
  const r = await exec(
    ['sh', '-c', ': > "$1" && chown "$2:$3" "$1"', 'sh', `${home}/${PLANTED_FILE}`, String(user.uid), String(user.gid)],
    { timeoutMs: 20_000 },
  );
  if (r.code !== 0) fail(`could not put a file of uid ${user.uid} into ${home}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

export function notWalkedVerdict(
  planted: string | undefined,
  logs: string,
  home: string,
  user: { uid: number; gid: number },
  ids: { uid: number },
): string {
  const want = `${user.uid}:${user.gid}`;
  if (planted !== want)
    fail(
      `in a re-created container on the same home volume, ${home}/${PLANTED_FILE} (uid ${user.uid}, put there before) belongs to ${planted ?? '(missing)'}: the start walked the home again (chown -R), which takes hours on a big volume`,
    );
  const line = logs.split('\n').find((l) => l.includes(NOT_WALKED));
  if (!line) fail(`the re-created container left ${home} alone, but its log does not say "${NOT_WALKED}"`);
  return `a re-created container on the same home (uid ${ids.uid} again) did not walk it: a file of uid ${user.uid} kept its owner; ${JSON.stringify(line.replace(/^\[[^\]]+\]\s*/, '').slice(0, 100))}`;
}

interface Slot {
  name: string;
  t0: number;
  error?: string;
  message?: string;
}

/**
 * `remap`: the uid checks (the image has a terminal service and a user); `key`: the host-key check (an ssh
 * service). Without `remap` the container gets a plain home volume, no new ids.
 */
export async function runVolumeScenario(env: ScenarioEnv, want: { remap?: VerifyService; key: boolean }): Promise<CheckResult[]> {
  const { session, subject, facts } = env;
  const user = facts.user;
  // planned only for an image with a user (subject.ts): without one there is nothing to remap or keep
  if (!user) fail('the image has no user: the home volume checks need one');
  const ids = remapIds(user);
  const slots: Slot[] = [];
  const remap: Slot | undefined = want.remap ? { name: 'uid remap', t0: Date.now() } : undefined;
  const key: Slot | undefined = want.key ? { name: 'host key kept', t0: Date.now() } : undefined;
  for (const s of [remap, key]) if (s) slots.push(s);
  const open = () => slots.filter((s) => s.error === undefined && s.message === undefined);
  const attempt = async (slot: Slot | undefined, fn: () => Promise<string | undefined>) => {
    if (!slot || slot.error !== undefined) return;
    try {
      const m = await fn();
      if (typeof m === 'string') slot.message = m;
    } catch (e) {
      slot.error = messageOf(e);
    }
  };
  const volume = await session.volume(env.base, 'volume-home');
  const start = async (suffix: string, which: string): Promise<TestContainer | undefined> => {
    const c = await scenarioContainer(env, ['volume', suffix], {
      env: remap ? { IDEKUBE_USER_UID: String(ids.uid), IDEKUBE_USER_GID: String(ids.gid) } : {},
      publish: true,
      mounts: [{ volume, target: user.home, nocopy: true }],
      privileged: needsPrivilege(subject.services),
    });
    await c.start();
    const ready = await waitReady(c, routesOf(subject.services), { timeoutMs: env.timeoutMs, programs: inside(c).exec });
    if (ready.exited) {
      for (const s of open())
        s.error = `the ${which} container on the home volume${remap ? ` (IDEKUBE_USER_UID=${ids.uid})` : ''}: ${describeReadiness(ready, c.port)}`;
      await session.dispose(c, env.keep);
      return undefined;
    }
    return c;
  };
  const partial: string[] = [];
  try {
    const c1 = await start('1', 'first');
    if (c1) {
      const exec = inside(c1).exec;
      await attempt(remap, async () => {
        partial.push(await remapThroughTerminal(c1.port, want.remap!, exec, user.home, ids, terminalWait(env.timeoutMs)));
        await plant(exec, user.home, user);
      });
      let first = '';
      await attempt(key, async () => void (first = await hostKey(exec, 'first')));
      await c1.stop(10);
      await session.dispose(c1, env.keep);
      if (open().length) {
        const c2 = await start('2', 're-created');
        if (c2) {
          const exec2 = inside(c2).exec;
          await attempt(remap, async () => {
            const [planted] = await owners(exec2, [`${user.home}/${PLANTED_FILE}`]);
            partial.push(notWalkedVerdict(planted, await c2.logs(), user.home, user, ids));
            return `IDEKUBE_USER_UID=${ids.uid} IDEKUBE_USER_GID=${ids.gid}: ${partial.join('; ')}`;
          });
          await attempt(key, async () => hostKeyVerdict(first, await hostKey(exec2, 're-created')));
          await session.dispose(c2, env.keep);
        }
      }
    }
  } catch (e) {
    for (const s of open()) s.error = e instanceof CheckFailed ? e.message : messageOf(e);
  }
  return slots.map((s) => ({
    name: s.name,
    status: s.error === undefined && s.message !== undefined ? 'pass' : 'fail',
    message: s.error ?? s.message ?? 'not run',
    durationMs: Date.now() - s.t0,
  }));
}
