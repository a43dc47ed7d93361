/**
 * GET /health (the health server behind nginx): 200 with `status: healthy` once every service that has a route is
 * listed and up, and the main service it names is the one the image declares. Services start slowly: polled, bounded.
 */
import { describeAnswer, httpGet, type HttpAnswer } from '../http.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { poll, seconds } from '../wait.js';

export interface HealthDoc {
  status?: string;
  main?: string;
  error?: string;
  services?: Record<string, { port?: number; path?: string; healthy?: boolean }>;
}

export interface HealthAnswer {
  status: number;
  /** The JSON document, when the answer is one. */
  doc?: HealthDoc;
  answer: HttpAnswer;
  /** How long the request took. */
  ms: number;
}

export async function getHealth(port: number, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<HealthAnswer> {
  const t0 = Date.now();
  const answer = await httpGet(port, '/health', timeoutMs, headers);
  const ms = Date.now() - t0;
  let doc: HealthDoc | undefined;
  try {
    const parsed: unknown = JSON.parse(answer.body);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) doc = parsed as HealthDoc;
  } catch {
    /* not JSON: nginx's own page (no /health route, or the health server down) */
  }
  return { status: answer.status, ...(doc ? { doc } : {}), answer, ms };
}

/** One line for messages: `200 {"status":"degraded"}, down: ssh`, or nginx's page when it is not JSON. */
export function describeHealth(h: HealthAnswer): string {
  if (!h.doc) {
    const hint =
      h.status === 404
        ? ': no /health location in nginx'
        : h.status === 502 || h.status === 504
          ? ': nginx cannot reach the health server (127.0.0.1:9999; is the health program running?)'
          : '';
    return `${describeAnswer(h.answer)}, not JSON${hint}`;
  }
  const down = Object.entries(h.doc.services ?? {})
    .filter(([, s]) => s?.healthy !== true)
    .map(([n]) => n);
  return `${h.status} {"status":${JSON.stringify(h.doc.status ?? null)}${h.doc.main !== undefined ? `,"main":${JSON.stringify(h.doc.main)}` : ''}}${h.doc.error ? ` (${h.doc.error})` : ''}${down.length ? `, down: ${down.join(', ')}` : ''}`;
}

/** Services that have a route: those /health must list (first of a name kept). */
export function probedServices(services: VerifyService[]): VerifyService[] {
  const seen = new Set<string>();
  return services.filter((s) => s.routes.length > 0 && !seen.has(s.name) && seen.add(s.name));
}

/** What keeps the answer from being "200 healthy, every routed service up, the declared main" (empty: nothing). */
export function healthProblems(h: HealthAnswer, services: VerifyService[], main: string | undefined): string[] {
  if (!h.doc) return [describeHealth(h)];
  const problems: string[] = [];
  if (h.status !== 200 || h.doc.status !== 'healthy') problems.push(`it answered ${describeHealth(h)}`);
  const listed = h.doc.services ?? {};
  for (const s of probedServices(services)) {
    const entry = listed[s.name];
    if (!entry) problems.push(`it lists no service ${s.name} (route ${s.routes[0]!.path})`);
    else if (entry.healthy !== true && !problems.length)
      problems.push(`${s.name} is not healthy (127.0.0.1:${entry.port ?? s.routes[0]!.port})`);
  }
  if (main !== undefined && h.doc.main !== main)
    problems.push(`its main service is ${JSON.stringify(h.doc.main ?? null)}, the image declares ${main}`);
  return problems;
}

export async function checkHealth(port: number, services: VerifyService[], main: string | undefined, pollMs: number): Promise<string> {
  let last: HealthAnswer | undefined;
  const { value, lastError, waitedMs } = await poll(
    async () => {
      last = await getHealth(port);
      return healthProblems(last, services, main).length ? undefined : last;
    },
    { timeoutMs: pollMs, intervalMs: 1000 },
  );
  if (!value) {
    if (!last) fail(`GET /health failed for ${seconds(waitedMs)}: ${lastError ?? 'no answer'}`);
    fail(
      `GET /health did not report every service healthy within ${seconds(waitedMs)}: ${healthProblems(last, services, main).join('; ')}`,
    );
  }
  const up = Object.keys(value.doc!.services ?? {});
  return `GET /health → 200 healthy: ${up.join(', ')} up${main ? ` (main: ${main})` : ''}${waitedMs > 1500 ? ` after ${seconds(waitedMs)}` : ''}`;
}
