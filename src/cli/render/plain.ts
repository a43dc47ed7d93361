/** Plain, timestamped lines for CI logs (no TTY): one line per start/end, executed steps, pushes and lists. */
import type { BuildEvent } from '../../drivers/events.js';
import type { Io } from '../context.js';

export function plainRenderer(io: Io, verbose: boolean): (e: BuildEvent) => void {
  const seen = new Set<string>();
  const ts = () => new Date().toISOString().slice(11, 19);
  const line = (s: string) => io.err(`[${ts()}] ${s}`);
  return (e) => {
    switch (e.type) {
      case 'plan':
        line(`plan: ${e.targets} build target(s), ${e.images} image(s), driver ${e.driver}`);
        break;
      case 'target-start':
        line(`${e.target}: building`);
        break;
      case 'step': {
        const key = `${e.target}|${e.name}`;
        if (e.completed && !e.cached && !seen.has(key) && /^\[/.test(e.name)) {
          seen.add(key);
          line(`${e.target}: done ${e.name.replace(/\s+/g, ' ').slice(0, 120)}`);
        }
        break;
      }
      case 'log':
        if (verbose) line(`${e.target}: ${e.line}`);
        break;
      case 'target-end':
        if (e.log?.length && !verbose) for (const l of e.log) line(`${e.target}: | ${l}`);
        line(
          `${e.target}: ${e.status}${e.durationMs ? ` in ${(e.durationMs / 1000).toFixed(1)}s` : ''}${e.executed !== undefined ? ` (${e.executed} step(s) run, ${e.cachedSteps} cached)` : ''}${e.error ? `: ${e.error}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
        );
        break;
      case 'push':
        line(`push ${e.ref}: ${e.status}${e.digest ? ` ${e.digest}` : ''}${e.error ? `: ${e.error}` : ''}`);
        break;
      case 'list':
        line(
          `manifest list ${e.ref}: ${e.status}${e.digest ? ` ${e.digest}` : ''}${e.platforms ? ` [${e.platforms.join(', ')}]` : ''}${e.reason ? `: ${e.reason}` : ''}`,
        );
        break;
      case 'note':
        line(`note: ${e.message}`);
        break;
    }
  };
}

export function jsonRenderer(io: Io): (e: BuildEvent) => void {
  return (e) => io.out(JSON.stringify({ time: new Date().toISOString(), ...e }));
}
