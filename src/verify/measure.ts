/** Running checks: one named result per check (pass, fail or skipped, with its message and time), a few at once. */
import { CheckFailed, CheckSkipped, type CheckResult } from './types.js';
import { messageOf } from '../config/errors.js';

/** Runs `fn` as check `name`: its message on success, CheckFailed → fail, CheckSkipped → skipped. */
export async function measure(name: string, fn: () => Promise<string>): Promise<CheckResult> {
  const t0 = Date.now();
  try {
    const message = await fn();
    return { name, status: 'pass', message, durationMs: Date.now() - t0 };
  } catch (e) {
    const status = e instanceof CheckSkipped ? 'skipped' : 'fail';
    const message = e instanceof CheckFailed || e instanceof CheckSkipped ? e.message : `${messageOf(e)}`;
    return { name, status, message, durationMs: Date.now() - t0 };
  }
}

/** Runs tasks with at most `limit` at once; results in the tasks' order. */
export async function limited<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

/** A step of a scenario: a named check that runs in a container the scenario set up. */
export interface Step {
  name: string;
  run: () => Promise<string>;
}

/** Runs steps one after the other (they share one container and its state), each its own result. */
export async function runSteps(steps: Step[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const s of steps) out.push(await measure(s.name, s.run));
  return out;
}

/** The same failure for every named check (the container they needed did not come up). */
export function failAll(names: string[], message: string): CheckResult[] {
  return names.map((name) => ({ name, status: 'fail', message, durationMs: 0 }));
}
