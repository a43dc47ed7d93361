/**
 * /health follows the services: with a secondary service's programs stopped it answers 200 `degraded` (that
 * service healthy: false), with the main service's stopped 502 — within 2.5 s (the health server answers within
 * 2 s even when a service hangs). Run in a container of the test's own: its programs are its own to stop.
 */
import { programStates } from '../checks/programs.js';
import { describeHealth, getHealth, type HealthAnswer } from '../checks/health.js';
import type { Exec } from '../exec.js';
import { fail, type VerifyService } from '../types.js';
import { poll, seconds } from '../wait.js';

/** The answer must come this fast (the health server promises 2 s; the rest is for nginx and a busy machine). */
export const HEALTH_ANSWER_MS = 2500;

/** The service whose stop should only degrade /health: the first with a route and programs, not the main one. */
export function secondaryOf(services: VerifyService[], main: VerifyService | undefined): VerifyService | undefined {
  return services.find((s) => s !== main && s.name !== main?.name && s.routes.length > 0 && s.programs.length > 0);
}

async function supervise(exec: Exec, action: 'stop' | 'start', s: VerifyService): Promise<void> {
  // exits non-zero when one is already stopped (or FATAL): the states afterwards are what counts
  const r = await exec(['supervisorctl', action, ...s.programs], { timeoutMs: 60_000 });
  const states = await programStates(exec).catch((e: Error) =>
    fail(`supervisorctl ${action} ${s.programs.join(' ')}: ${r.stdout.trim() || r.stderr.trim()}; ${e.message}`),
  );
  const mine = states.filter((p) => s.programs.includes(p.name));
  if (!mine.length)
    fail(`supervisord has none of service ${s.name}'s programs (${s.programs.join(', ')}): ${states.map((p) => p.name).join(', ')}`);
  const still = action === 'stop' ? mine.filter((p) => p.state === 'RUNNING' || p.state === 'STARTING') : [];
  if (still.length)
    fail(`supervisorctl stop did not stop ${still.map((p) => `${p.name} (${p.state})`).join(', ')}: ${r.stdout.trim() || r.stderr.trim()}`);
}

export const stopService = (exec: Exec, s: VerifyService) => supervise(exec, 'stop', s);
export const startService = (exec: Exec, s: VerifyService) => supervise(exec, 'start', s);

const healthy = (h: HealthAnswer | undefined, name: string) => h?.doc?.services?.[name]?.healthy;

export async function checkHealthDegraded(
  port: number,
  exec: Exec,
  secondary: VerifyService,
  main: VerifyService,
  pollMs: number,
): Promise<string> {
  await stopService(exec, secondary);
  let last: HealthAnswer | undefined;
  const { value, waitedMs, lastError } = await poll(
    async () => {
      last = await getHealth(port);
      return last.status === 200 &&
        last.doc?.status === 'degraded' &&
        healthy(last, secondary.name) === false &&
        healthy(last, main.name) === true
        ? last
        : undefined;
    },
    { timeoutMs: pollMs, intervalMs: 500 },
  );
  const stopped = `with service ${secondary.name}'s programs stopped (${secondary.programs.join(', ')})`;
  if (!value) {
    if (!last) fail(`${stopped}, GET /health failed: ${lastError ?? 'no answer'}`);
    const why =
      last.status === 502 && last.doc
        ? `: /health treats ${secondary.name} as vital (its main service is ${JSON.stringify(last.doc.main ?? null)}, the image declares ${main.name})`
        : last.doc?.status === 'healthy'
          ? `: /health does not notice ${secondary.name} is down${last.doc.services?.[secondary.name] ? '' : ' (it does not list it)'}`
          : healthy(last, secondary.name) === undefined && last.doc
            ? `: /health does not list ${secondary.name}`
            : '';
    fail(
      `${stopped}, GET /health answered ${describeHealth(last)} for ${seconds(waitedMs)}, expected 200 degraded with ${secondary.name} healthy: false${why}`,
    );
  }
  return `${stopped}: GET /health → 200 degraded, ${secondary.name} healthy: false, ${main.name} (main) healthy: true`;
}

/**
 * `restore`: the secondary stopped before, started again first (and waited for) so that only the main service is
 * down when the 502 is expected.
 */
export async function checkHealth502(
  port: number,
  exec: Exec,
  main: VerifyService,
  restore: VerifyService | undefined,
  pollMs: number,
): Promise<string> {
  if (restore) {
    await startService(exec, restore);
    let back: HealthAnswer | undefined;
    const { value } = await poll(
      async () => {
        back = await getHealth(port);
        return healthy(back, restore.name) === true ? back : undefined;
      },
      { timeoutMs: pollMs, intervalMs: 500 },
    );
    if (!value)
      fail(
        `service ${restore.name} (stopped for the degraded check) did not come back after supervisorctl start: GET /health answered ${back ? describeHealth(back) : 'nothing'}; the main service cannot be checked alone`,
      );
  }
  await stopService(exec, main);
  let last: HealthAnswer | undefined;
  let slowest = 0;
  const { value, waitedMs, lastError } = await poll(
    async () => {
      last = await getHealth(port);
      slowest = Math.max(slowest, last.ms);
      return last.status === 502 ? last : undefined;
    },
    { timeoutMs: pollMs, intervalMs: 500 },
  );
  const stopped = `with the main service ${main.name}'s programs stopped (${main.programs.join(', ')})`;
  if (!value) {
    if (!last) fail(`${stopped}, GET /health failed: ${lastError ?? 'no answer'}`);
    const why =
      last.status === 200 && last.doc
        ? `: /health does not follow the main service${last.doc.main !== main.name ? ` (its main service is ${JSON.stringify(last.doc.main ?? null)})` : ''}`
        : '';
    fail(`${stopped}, GET /health answered ${describeHealth(last)} for ${seconds(waitedMs)}, expected 502${why}`);
  }
  if (!value.doc)
    fail(`${stopped}, GET /health answered ${describeHealth(value)}: nginx's 502, not the health server's (JSON with status degraded)`);
  if (value.doc.status !== 'degraded' || healthy(value, main.name) !== false)
    fail(`${stopped}, GET /health answered ${describeHealth(value)}, expected status degraded with ${main.name} healthy: false`);
  if (value.ms > HEALTH_ANSWER_MS)
    fail(
      `${stopped}, GET /health answered 502 but took ${value.ms} ms: it must answer within 2 s with a service down (${HEALTH_ANSWER_MS} ms allowed)`,
    );
  return `${stopped}: GET /health → 502 degraded, ${main.name} healthy: false, in ${value.ms} ms (slowest answer ${slowest} ms)`;
}
