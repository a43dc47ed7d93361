/**
 * Runs tasks that depend on each other: a task starts once every task it depends on succeeded, at most `jobs` at
 * once, the highest priority first (list order among equals). A task whose dependency did not succeed is skipped,
 * and once the signal is aborted nothing more starts and every waiting task is cancelled.
 *
 * The caller keeps the outcomes (`outcome`): it records a task's result the moment the task ends, so a dependent
 * can start in the same pass as it would when results and scheduling live side by side.
 */

export interface SchedTask {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

/** Why a task never ran: cancelled, a dependency that did not succeed, or a plan where nothing can progress. */
export type SkipReason = { kind: 'cancelled' } | { kind: 'dependency'; dependency: string } | { kind: 'stuck' };

export interface SchedulerOptions<T extends SchedTask> {
  jobs: number;
  signal: AbortSignal;
  /** Higher starts first among ready tasks. */
  priority?: (id: string) => number;
  /** Runs one task; its outcome must be readable through `outcome` when the returned promise settles. */
  run: (task: T) => Promise<void>;
  /** true: succeeded, false: failed or skipped, undefined: not finished. */
  outcome: (id: string) => boolean | undefined;
  /** A task that will not run; the caller records it (so that `outcome` answers false for it). */
  skip: (task: T, reason: SkipReason) => void;
}

/** Resolves once every task ran or was skipped. */
export async function runScheduled<T extends SchedTask>(tasks: readonly T[], opts: SchedulerOptions<T>): Promise<void> {
  const rank = (id: string) => opts.priority?.(id) ?? 0;
  // pending in start order (a stable sort keeps list order among equals)
  const pending = new Map([...tasks].sort((a, b) => rank(b.id) - rank(a.id)).map((t) => [t.id, t]));
  const running = new Map<string, Promise<void>>();
  while (pending.size || running.size) {
    skipDependents(pending, opts);
    startReady(pending, running, opts);
    if (!running.size) {
      skipDependents(pending, opts);
      // nothing can make progress (should not happen with a valid plan)
      for (const t of pending.values()) opts.skip(t, { kind: 'stuck' });
      pending.clear();
      break;
    }
    await Promise.race(running.values());
  }
}

function skipDependents<T extends SchedTask>(pending: Map<string, T>, opts: SchedulerOptions<T>): void {
  for (const t of [...pending.values()]) {
    const failed = t.dependsOn.find((d) => opts.outcome(d) === false);
    const reason: SkipReason | undefined = opts.signal.aborted
      ? { kind: 'cancelled' }
      : failed !== undefined
        ? { kind: 'dependency', dependency: failed }
        : undefined;
    if (!reason) continue;
    pending.delete(t.id);
    opts.skip(t, reason);
  }
}

function startReady<T extends SchedTask>(pending: Map<string, T>, running: Map<string, Promise<void>>, opts: SchedulerOptions<T>): void {
  for (const t of [...pending.values()]) {
    if (running.size >= opts.jobs || opts.signal.aborted) break;
    if (!t.dependsOn.every((d) => opts.outcome(d) === true)) continue;
    pending.delete(t.id);
    running.set(
      t.id,
      opts.run(t).finally(() => running.delete(t.id)),
    );
  }
}
