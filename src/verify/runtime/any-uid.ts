/**
 * The container runs as an arbitrary uid (`docker run --user 12345`, no passwd entry, OpenShift-style): it stays
 * up, nginx answers on port 80, every web service is served, and no process runs as root. SSH, dind and the
 * desktop are not expected in this mode (see NOT_EXPECTED).
 */
import { checkCoder } from '../checks/coder.js';
import { checkRoute } from '../checks/http.js';
import { checkJupyter } from '../checks/jupyter.js';
import { checkNginx } from '../checks/nginx.js';
import { describeProcess, processes } from '../exec.js';
import { describeReadiness, waitReady } from '../ready.js';
import { CheckFailed, fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { routesOf, scenarioContainer, type ScenarioEnv } from './scenario.js';

export const ANY_UID = '12345';
/**
 * Not expected as a uid without a passwd entry: sshd (host keys, privilege separation need root), dind, and the
 * desktop (its session bus, dbus-daemon, refuses a uid it cannot name, and XFCE needs the bus).
 */
export const NOT_EXPECTED = ['ssh', 'dind', 'vnc', 'none'];
const WHY: Record<string, string> = {
  ssh: 'sshd needs root',
  dind: 'dockerd needs root',
  vnc: 'the desktop session needs D-Bus, which needs a passwd entry',
};

async function serviceServes(port: number, s: VerifyService): Promise<string> {
  switch (s.check) {
    case 'jupyter':
      await checkJupyter(port, s);
      return `${s.name} (API)`;
    case 'coder':
      await checkCoder(port, s);
      return s.name;
    default:
      for (const r of s.routes) await checkRoute(port, r);
      return s.name;
  }
}

export async function checkAnyUid(env: ScenarioEnv): Promise<string> {
  const { session, subject } = env;
  const c = await scenarioContainer(env, ['uid', ANY_UID], { env: {}, user: ANY_UID, publish: true, mounts: [] });
  try {
    await c.start();
    const notExpected = subject.services.filter((x) => NOT_EXPECTED.includes(x.check)).flatMap((x) => x.programs);
    const ready = await waitReady(c, routesOf(subject.services, NOT_EXPECTED), { timeoutMs: env.timeoutMs, ignoreFatal: notExpected });
    if (ready.exited || !ready.nginx)
      fail(
        `as uid ${ANY_UID}: ${describeReadiness(ready, c.port)}${ready.exited ? '' : `; last log lines: ${(await c.logTail(4)).split('\n').join(' | ')}`}`,
      );
    const served: string[] = [];
    try {
      await checkNginx(c.port);
      for (const s of subject.services.filter((x) => !NOT_EXPECTED.includes(x.check))) served.push(await serviceServes(c.port, s));
    } catch (e) {
      if (e instanceof CheckFailed) fail(`as uid ${ANY_UID}: ${e.message}`);
      throw e;
    }
    const procs = await processes((cmd, o) => c.exec(cmd, { ...o, user: ANY_UID }));
    const other = procs.filter((p) => String(p.uid) !== ANY_UID);
    if (other.length)
      fail(
        `as uid ${ANY_UID}: ${other
          .slice(0, 3)
          .map((p) => `${describeProcess(p)} runs as uid ${p.uid}`)
          .join(', ')}`,
      );
    const left = subject.services
      .filter((x) => NOT_EXPECTED.includes(x.check) && x.check !== 'none')
      .map((x) => `${x.name}: ${WHY[x.check]}`);
    return `as uid ${ANY_UID}: nginx answers${served.length ? `, ${served.join(', ')} served` : ''}; all ${procs.length} processes run as ${ANY_UID}${left.length ? ` (not expected for a uid without a passwd entry: ${left.join('; ')})` : ''}`;
  } finally {
    await session.dispose(c, env.keep);
  }
}
