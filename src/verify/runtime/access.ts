/**
 * IDEKUBE_ACCESS_TOKEN in containers of the test's own: one started with a valid token runs the auth checks (what
 * is protected, each way the token is accepted, open routes, the token kept secret) and then the health
 * transitions (its programs are its own to stop); another, with an invalid token, must refuse to start.
 */
import {
  checkAuth401,
  checkAuthCookie,
  checkAuthHeader,
  checkAuthOpenRoutes,
  checkAuthQuery,
  checkAuthWebsocket,
  header,
  makeToken,
  openRoutes,
  protectedPath,
  protectedSocket,
  redact,
} from '../checks/auth.js';
import { checkSecret } from '../checks/secret.js';
import { inside } from '../exec.js';
import { failAll, runSteps, type Step } from '../measure.js';
import { describeReadiness, waitReady } from '../ready.js';
import { mainOf } from '../subject.js';
import { fail, skip, type CheckResult } from '../types.js';
import { checkHealth502, checkHealthDegraded, secondaryOf } from './health-states.js';
import { needsPrivilege, routesOf, scenarioContainer, type ScenarioEnv } from './scenario.js';

/** The checks of the token container, in the order they run. */
export const ACCESS_CHECKS = [
  'auth 401',
  'auth query',
  'auth header',
  'auth cookie',
  'auth websocket',
  'auth open routes',
  'auth secret',
  'health degraded',
  'health 502',
] as const;

/** Outside [A-Za-z0-9._:@%+-] (a space and a `;`): the runtime must refuse it rather than serve unprotected. */
export const INVALID_TOKEN = 'bad token;';
export const REFUSAL = 'refusing to start unprotected';

/** Runs the planned checks among ACCESS_CHECKS (`names`) in one container started with a token. */
export async function runAccessScenario(env: ScenarioEnv, names: string[]): Promise<CheckResult[]> {
  const { session, subject } = env;
  const token = makeToken();
  const c = await scenarioContainer(env, ['token'], {
    env: { IDEKUBE_ACCESS_TOKEN: token },
    publish: true,
    mounts: [],
    privileged: needsPrivilege(subject.services),
  });
  try {
    await c.start();
    // probes carry the token: readiness waits for the services behind nginx, not for its 401s
    const ready = await waitReady(c, routesOf(subject.services), {
      timeoutMs: env.timeoutMs,
      programs: inside(c).exec,
      headers: header(token),
    });
    if (ready.exited || !ready.nginx)
      return failAll(names, `with IDEKUBE_ACCESS_TOKEN set: ${redact(describeReadiness(ready, c.port), token)}`);
    const port = c.port;
    const main = mainOf(subject.services);
    const path = protectedPath(subject.services, main);
    const socket = protectedSocket(subject.services);
    const secondary = secondaryOf(subject.services, main);
    const pollMs = Math.max(20_000, Math.min(env.timeoutMs, 60_000));
    const exec = inside(c).exec;
    let stoppedSecondary = false;
    const all: Record<(typeof ACCESS_CHECKS)[number], () => Promise<string>> = {
      'auth 401': () => checkAuth401(port, path, token),
      'auth query': () => checkAuthQuery(port, path, token),
      'auth header': () => checkAuthHeader(port, path, token),
      'auth cookie': () => checkAuthCookie(port, path, token),
      'auth websocket': async () =>
        socket ? checkAuthWebsocket(port, socket, token) : skip('the image declares no protected WebSocket that upgrades on its own'),
      'auth open routes': () => checkAuthOpenRoutes(port, openRoutes(subject.services)),
      'auth secret': () => checkSecret(token, () => c.logs(), exec),
      'health degraded': async () => {
        if (!secondary || !main) skip('only one service has a route');
        stoppedSecondary = true;
        return checkHealthDegraded(port, exec, secondary, main, pollMs);
      },
      'health 502': async () => {
        if (!main?.programs.length) fail(`the main service ${main?.name ?? '(none)'} declares no programs to stop`);
        return checkHealth502(port, exec, main, stoppedSecondary ? secondary : undefined, pollMs);
      },
    };
    const steps: Step[] = ACCESS_CHECKS.filter((n) => names.includes(n)).map((n) => ({ name: n, run: all[n] }));
    return (await runSteps(steps)).map((r) => ({ ...r, message: redact(r.message, token) }));
  } finally {
    await session.dispose(c, env.keep);
  }
}

/** A container with an invalid token exits non-zero, saying it refuses to start unprotected. */
export async function checkAccessInvalid(env: ScenarioEnv): Promise<string> {
  const { session } = env;
  const c = await scenarioContainer(env, ['bad-token'], { env: { IDEKUBE_ACCESS_TOKEN: INVALID_TOKEN }, publish: false, mounts: [] });
  try {
    await c.start();
    let code: number;
    try {
      code = await c.waitExit(env.timeoutMs);
    } catch {
      fail(
        `with IDEKUBE_ACCESS_TOKEN=${JSON.stringify(INVALID_TOKEN)} the container kept running for ${Math.round(env.timeoutMs / 1000)} s: it must refuse to start (exit 1, "${REFUSAL}") instead of serving unprotected; last log lines: ${(await c.logTail(3)).split('\n').join(' | ')}`,
      );
    }
    const logs = await c.logs();
    const line = logs.split('\n').find((l) => l.includes(REFUSAL));
    if (code === 0)
      fail(`with IDEKUBE_ACCESS_TOKEN=${JSON.stringify(INVALID_TOKEN)} the container exited 0: it must fail (exit 1, "${REFUSAL}")`);
    if (!line)
      fail(
        `with IDEKUBE_ACCESS_TOKEN=${JSON.stringify(INVALID_TOKEN)} the container exited ${code}, but its log does not say "${REFUSAL}": ${(await c.logTail(3)).split('\n').join(' | ')}`,
      );
    return `IDEKUBE_ACCESS_TOKEN=${JSON.stringify(INVALID_TOKEN)}: exit ${code}, ${JSON.stringify(line.replace(/^\[[^\]]+\]\s*/, '').slice(0, 120))}`;
  } finally {
    await session.dispose(c, env.keep);
  }
}
