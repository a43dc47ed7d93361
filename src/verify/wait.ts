/** Bounded waiting: every wait in `idekube test` has a deadline and says what it waited for when it runs out. */
import { messageOf } from '../config/errors.js';

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns a value other than undefined, or the deadline passes (then resolves undefined).
 * A probe that throws counts as "not yet"; the last error is kept for the caller's message.
 */
export async function poll<T>(
  probe: () => Promise<T | undefined>,
  opts: PollOptions,
): Promise<{ value: T | undefined; lastError?: string; waitedMs: number }> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let lastError: string | undefined;
  for (;;) {
    if (opts.signal?.aborted) break;
    try {
      const v = await probe();
      if (v !== undefined) return { value: v, waitedMs: Date.now() - started };
    } catch (e) {
      lastError = messageOf(e);
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(opts.intervalMs ?? 500, left), opts.signal);
  }
  return { value: undefined, ...(lastError !== undefined ? { lastError } : {}), waitedMs: Date.now() - started };
}

/** Rejects with `message` when `p` does not settle within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
