/**
 * Live task tree on a terminal (listr2): one task per build target showing its current step, one per image
 * publish. Events arrive from the driver; each task waits for its target's end.
 */
import type { ListrTask } from 'listr2';
import type { BuildEvent } from '../../drivers/events.js';
import type { Plan } from '../../plan/types.js';

interface Waiter {
  resolve: (v: BuildEvent) => void;
  output?: (s: string) => void;
  promise: Promise<BuildEvent>;
}

export async function ttyRenderer(plan: Plan): Promise<{ emit: (e: BuildEvent) => void; done: Promise<void> }> {
  const { Listr } = await import('listr2');
  const waiters = new Map<string, Waiter>();
  const waiter = (key: string): Waiter => {
    let w = waiters.get(key);
    if (!w) {
      let resolve!: (v: BuildEvent) => void;
      const promise = new Promise<BuildEvent>((r) => (resolve = r));
      w = { resolve, promise };
      waiters.set(key, w);
    }
    return w;
  };
  const tasks: ListrTask[] = plan.targets.map((t) => ({
    title: t.id,
    task: async (_, task) => {
      const w = waiter(t.id);
      w.output = (s: string) => (task.output = s);
      const end = (await w.promise) as Extract<BuildEvent, { type: 'target-end' }>;
      const secs = `${(end.durationMs / 1000).toFixed(1)}s`;
      if (end.status === 'skipped' || end.status === 'cancelled')
        task.skip(`${t.id}: ${end.status}${end.reason ? ` (${end.reason})` : ''}`);
      else if (end.status === 'failed')
        throw new Error(`${t.id}: ${end.error ?? 'failed'}${end.log?.length ? `\n${end.log.slice(-10).join('\n')}` : ''}`);
      else
        task.title = `${t.id} ${end.status} in ${secs}${end.executed !== undefined ? `, ${end.executed} run / ${end.cachedSteps} cached` : ''}`;
    },
  }));
  if (plan.push) {
    for (const i of plan.images) {
      tasks.push({
        title: `publish ${i.ref}`,
        task: async (_, task) => {
          const w = waiter(`list:${i.ref}`);
          w.output = (s: string) => (task.output = s);
          const end = (await w.promise) as Extract<BuildEvent, { type: 'list' }>;
          if (end.status === 'skipped') task.skip(`publish ${i.ref}: ${end.reason}`);
          else if (end.status === 'failed') throw new Error(`publish ${i.ref}: ${end.reason}`);
          else task.title = `published ${i.ref} [${(end.platforms ?? []).join(', ')}]`;
        },
      });
    }
  }
  const list = new Listr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseSubtasks: false } });
  const done = list.run().then(
    () => undefined,
    () => undefined,
  );
  const emit = (e: BuildEvent) => {
    if (e.type === 'step' && !e.completed && !e.cached) waiters.get(e.target)?.output?.(e.name.replace(/\s+/g, ' ').slice(0, 100));
    if (e.type === 'target-end') waiter(e.target).resolve(e);
    if (e.type === 'push') {
      const img = plan.images.find((i) => i.targets.some((t) => plan.targets.find((x) => x.id === t)?.tag === e.ref));
      if (img) waiters.get(`list:${img.ref}`)?.output?.(`push ${e.ref} ${e.status}`);
    }
    if (e.type === 'list') waiter(`list:${e.ref}`).resolve(e);
  };
  return { emit, done };
}
