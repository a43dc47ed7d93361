/**
 * Readiness: wait (bounded) until the container serves — nginx answers on port 80 and every route's service is up
 * behind it (nginx no longer says 502/504) — or stop early when the container exits or a supervisord program has
 * given up (FATAL), since waiting longer cannot help.
 */
import type { Route } from '../config/model.js';
import type { TestContainer } from './container.js';
import type { Exec } from './exec.js';
import { httpGet, upstreamDown } from './http.js';
import { programStates } from './checks/programs.js';
import { sleep } from './wait.js';
import { messageOf } from '../config/errors.js';

export interface Readiness {
  /** nginx answered on port 80 at least once. */
  nginx: boolean;
  /** Why the last probe of port 80 got no answer (when it got none): for the message when nginx never answered. */
  lastError?: string;
  /** Routes whose service never answered (nginx said 502/504 until the end). */
  pending: string[];
  /** Programs supervisord gave up on. */
  fatal: string[];
  exited?: { code: number; logs: string };
  waitedMs: number;
}

export interface ReadyOptions {
  timeoutMs: number;
  /** Read supervisord's program states too (root containers with supervisorctl). */
  programs?: Exec;
  /** Programs expected to give up here (sshd as an arbitrary uid): their FATAL state does not end the wait. */
  ignoreFatal?: string[];
  signal?: AbortSignal;
  /** Sent with every probe (the access token, so that routes answer as their services do, not 401). */
  headers?: Record<string, string>;
}

export async function waitReady(c: TestContainer, routes: Route[], opts: ReadyOptions): Promise<Readiness> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let nginx = false;
  let pending = routes.map((r) => r.path);
  let fatal: string[] = [];
  let lastError: string | undefined;
  // every program RUNNING but port 80 or a route still not answering: give it this long, then stop waiting
  const grace = Math.max(15_000, opts.timeoutMs / 4);
  let allRunningSince: number | undefined;
  // a program gave up while routes still answered 502: the others may still be binding their ports (a program is
  // RUNNING a second after it starts, listening or not) — give them the same grace before settling for less
  let gaveUpSince: number | undefined;
  for (;;) {
    const st = await c.state().catch(() => undefined);
    if (st && !st.running) {
      return { nginx, lastError, pending, fatal, exited: { code: st.exitCode, logs: await c.logTail(20) }, waitedMs: Date.now() - started };
    }
    if (c.port) {
      // sticky: one probe that gets no answer in time on a loaded machine does not undo an answer seen before
      let answered = false;
      try {
        await httpGet(c.port, '/', 5000, opts.headers);
        answered = nginx = true;
        lastError = undefined;
      } catch (e) {
        lastError = messageOf(e);
      }
      if (answered) {
        const still: string[] = [];
        for (const r of routes) {
          try {
            const a = await httpGet(c.port, r.path, 5000, opts.headers);
            if (upstreamDown(a.status)) still.push(r.path);
          } catch {
            still.push(r.path);
          }
        }
        pending = still;
      }
    }
    if (opts.programs) {
      const states = await programStates(opts.programs).catch(() => []);
      fatal = states.filter((p) => p.state === 'FATAL').map((p) => p.name);
      const settling = states.some((p) => p.state === 'STARTING' || p.state === 'BACKOFF');
      if (nginx && !pending.length && !settling) break;
      if (fatal.length && !settling && nginx) {
        // a program gave up: nothing more will come up, once the routes that can answer do
        if (!pending.length) break;
        gaveUpSince ??= Date.now();
        if (Date.now() - gaveUpSince > grace) break;
      } else gaveUpSince = undefined;
      if (states.length && states.every((p) => p.state === 'RUNNING')) {
        allRunningSince ??= Date.now();
        if (Date.now() - allRunningSince > grace) break; // running, yet not answering where nginx sends
      } else allRunningSince = undefined;
    } else {
      if (nginx && !pending.length) break;
      // no supervisorctl here (e.g. an arbitrary uid): supervisord says in its log when it gives up
      fatal = fatalFromLogs(await c.logs().catch(() => '')).filter((p) => !opts.ignoreFatal?.includes(p));
      if (fatal.length) break;
    }
    if (Date.now() >= deadline || opts.signal?.aborted) break;
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())), opts.signal);
  }
  return { nginx, lastError, pending, fatal, waitedMs: Date.now() - started };
}

/** Programs supervisord gave up on, from its log (`gave up: NAME entered FATAL state`). */
export function fatalFromLogs(logs: string): string[] {
  return [...new Set([...logs.matchAll(/gave up: (\S+) entered FATAL state/g)].map((m) => m[1]!))];
}

export function describeReadiness(r: Readiness, port: number): string {
  if (r.exited) return `the container exited with code ${r.exited.code} before it served; last log lines:\n${r.exited.logs}`;
  if (!r.nginx)
    return `nothing answered HTTP on port 80 (127.0.0.1:${port}) within ${Math.round(r.waitedMs / 1000)} s${r.lastError ? ` (last try: ${r.lastError})` : ''}${r.fatal.length ? `; supervisord gave up on: ${r.fatal.join(', ')}` : ''}`;
  const parts: string[] = [];
  if (r.pending.length) parts.push(`still 502/504 after ${Math.round(r.waitedMs / 1000)} s: ${r.pending.join(', ')}`);
  if (r.fatal.length) parts.push(`supervisord gave up on: ${r.fatal.join(', ')}`);
  return parts.length ? parts.join('; ') : `ready in ${(r.waitedMs / 1000).toFixed(1)} s`;
}
