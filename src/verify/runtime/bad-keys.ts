/**
 * An invalid IDEKUBE_AUTHORIZED_KEYS is reported in the log (a line naming the variable) and the container
 * still serves: nginx answers and sshd still greets through /ssh.
 */
import { checkNginx } from '../checks/nginx.js';
import { checkSshBanner } from '../checks/ssh.js';
import { inside } from '../exec.js';
import { describeReadiness, waitReady } from '../ready.js';
import { CheckFailed, fail } from '../types.js';
import { routesOf, scenarioContainer, type ScenarioEnv } from './scenario.js';

export const BAD_KEYS = 'this is not base64: %%%';

export async function checkBadKeys(env: ScenarioEnv): Promise<string> {
  const { session, subject } = env;
  const c = await scenarioContainer(env, ['bad-keys'], { env: { IDEKUBE_AUTHORIZED_KEYS: BAD_KEYS }, publish: true, mounts: [] });
  try {
    await c.start();
    const ready = await waitReady(c, routesOf(subject.services), { timeoutMs: env.timeoutMs, programs: inside(c).exec });
    if (ready.exited) fail(`with an invalid IDEKUBE_AUTHORIZED_KEYS: ${describeReadiness(ready, c.port)}`);
    const logs = await c.logs();
    const line = logs.split('\n').find((l) => l.includes('IDEKUBE_AUTHORIZED_KEYS') && /error|warn|invalid|not valid/i.test(l));
    if (!line)
      fail('an invalid IDEKUBE_AUTHORIZED_KEYS was not reported: no ERROR/WARNING line in the container log names IDEKUBE_AUTHORIZED_KEYS');
    const serving: string[] = [];
    try {
      await checkNginx(c.port);
      serving.push('nginx');
      for (const s of subject.services.filter((x) => x.check === 'ssh')) {
        await checkSshBanner(c.port, s);
        serving.push(s.routes[0]?.path ?? s.name);
      }
    } catch (e) {
      if (e instanceof CheckFailed)
        fail(`the invalid IDEKUBE_AUTHORIZED_KEYS was reported, but the container no longer serves: ${e.message}`);
      throw e;
    }
    const shown = line.replace(/^\[[^\]]+\]\s*/, '');
    return `reported (${JSON.stringify(shown.length > 110 ? `${shown.slice(0, 107)}…` : shown)}); ${serving.join(' and ')} still serve${serving.length === 1 ? 's' : ''}`;
  } finally {
    await session.dispose(c, env.keep);
  }
}
