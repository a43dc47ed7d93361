/** The closing table: each target's status, time and steps, and each image's publish result. */
import type { RunResult } from '../../drivers/events.js';
import { style, type Io } from '../context.js';

export function printSummary(io: Io, r: RunResult): void {
  const s = style(io);
  const paint = (status: string) =>
    status === 'failed' ? s.red(status) : status === 'skipped' || status === 'cancelled' ? s.yellow(status) : s.green(status);
  const w = Math.max(10, ...r.targets.map((t) => t.id.length));
  io.err('');
  io.err(s.bold(`${'target'.padEnd(w)}  ${'status'.padEnd(9)} ${'time'.padStart(7)}  ${'run/cached'.padEnd(10)}  image`));
  for (const t of r.targets) {
    const steps = t.executed !== undefined ? `${t.executed}/${t.cachedSteps}` : '-';
    io.err(
      `${t.id.padEnd(w)}  ${paint(t.status.padEnd(9))} ${`${(t.durationMs / 1000).toFixed(1)}s`.padStart(7)}  ${steps.padEnd(10)}  ${t.digest ?? t.imageId?.slice(0, 19) ?? t.error ?? ''}`,
    );
  }
  for (const i of r.images) {
    io.err(`${paint(i.status.padEnd(9))} ${i.ref}${i.digest ? `@${i.digest}` : ''}${i.reason ? `  (${i.reason})` : ''}`);
  }
  const count = (st: string) => r.targets.filter((t) => t.status === st).length;
  io.err(
    `built ${count('built')}, cached ${count('cached')}, failed ${count('failed')}, skipped ${count('skipped') + count('cancelled')}, published ${r.images.filter((i) => i.status === 'published').length} in ${(r.durationMs / 1000).toFixed(1)}s`,
  );
}
