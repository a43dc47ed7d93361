/**
 * CLI latency: median wall time of idekube commands next to `node -e 0` (the floor), interleaved in one run so
 * that machine noise hits both alike. Usage: node dist/bench/cli-latency.js [runs]
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtMs, machine, median, timeOnce } from './lib.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const CLI = join(ROOT, 'bin/idekube.js');

export interface LatencyRow {
  command: string;
  medianMs: number;
  ratio: number;
}

export function cliLatency(runs: number): { floorMs: number; rows: LatencyRow[] } {
  const commands: Array<[string, string[]]> = [
    ['idekube --help', ['--help']],
    ['idekube list', ['list']],
    ['idekube tags --all', ['tags', '--all']],
    ['idekube plan --all', ['plan', '--all', '--driver', 'docker']],
    ['idekube generate --all', ['generate', '--all', '-o', join(ROOT, '.idekube/bench-generate')]],
  ];
  const floor: number[] = [];
  const times = new Map<string, number[]>(commands.map(([n]) => [n, []]));
  for (let i = 0; i < runs; i++) {
    floor.push(timeOnce([process.execPath, '-e', '0']));
    for (const [name, args] of commands) times.get(name)!.push(timeOnce([process.execPath, CLI, '-C', ROOT, ...args]));
  }
  const floorMs = median(floor);
  return {
    floorMs,
    rows: commands.map(([name]) => ({ command: name, medianMs: median(times.get(name)!), ratio: median(times.get(name)!) / floorMs })),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 15);
  console.log(`machine: ${machine()}`);
  const { floorMs, rows } = cliLatency(runs);
  console.log(`median of ${runs} runs each, interleaved`);
  console.log(`${'node -e 0'.padEnd(26)} ${fmtMs(floorMs).padStart(8)}   1.00×`);
  for (const r of rows) console.log(`${r.command.padEnd(26)} ${fmtMs(r.medianMs).padStart(8)}   ${r.ratio.toFixed(2)}×`);
}
