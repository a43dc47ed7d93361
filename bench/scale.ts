/**
 * Scale: wall time of idekube commands on two generated catalogs (no engine, no assertions):
 *   wide  N flavors: 50 families, each a tree (parent of variant i is variant ⌊(i-1)/3⌋), a layer per depth;
 *   deep  one chain N flavors deep, each flavor adding its own layer (every 50th with a script and an arg).
 * Each command runs twice: cold (no catalog cache) and warm (cache written by the cold run).
 * Usage: node dist/bench/scale.js [N=5000] [wide|deep|both] [-k]   (-k keeps the projects, printed)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtMs, machine } from './lib.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const CLI = join(ROOT, 'bin/idekube.js');

type Files = Map<string, string>;

function write(dir: string, files: Files): void {
  for (const [rel, text] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

const SCRIPT = '#!/usr/bin/env bash\nset -euo pipefail\n';

/** `families` trees of n/families flavors each; variant i's parent is variant ⌊(i-1)/3⌋; layer `d<depth>` per depth. */
export function wideCatalog(n: number, families = 50): Files {
  const files: Files = new Map();
  files.set('.dockerargs', 'BASE_IMAGE=debian:bookworm\nTOOL_VERSION=1.0\n');
  const per = Math.ceil(n / families);
  const depthOf = (i: number): number => (i === 0 ? 0 : 1 + depthOf(Math.floor((i - 1) / 3)));
  const maxDepth = depthOf(per - 1);
  for (let d = 0; d <= maxDepth; d++) {
    const service =
      d === 0
        ? `services:\n  web:\n    routes:\n      - {path: /web/, port: 8080}\n    programs:\n      web: {command: /usr/bin/web}\n`
        : '';
    files.set(
      `flavors/layers/d${d}.yaml`,
      `description: depth ${d}\nrun: install.sh\nargs:\n  D${d}_VERSION: "${d}.0"\n${d === 0 ? '  TOOL_VERSION: null\n' : ''}${service}`,
    );
    files.set(`artifacts/layers/d${d}/install.sh`, SCRIPT);
  }
  let made = 0;
  for (let f = 0; f < families && made < n; f++) {
    for (let i = 0; i < per && made < n; i++, made++) {
      const from = i === 0 ? 'from:\n  image: ${BASE_IMAGE}\n' : `from:\n  parent: f${f}/v${Math.floor((i - 1) / 3)}\n`;
      files.set(`flavors/f${f}/v${i}/flavor.yaml`, `${from}layers: [d${depthOf(i)}]\n`);
    }
  }
  return files;
}

/** One chain n deep: c/v0 ← c/v1 ← …, each with its own layer; every 50th layer has a script and an arg. */
export function deepCatalog(n: number): Files {
  const files: Files = new Map();
  files.set('.dockerargs', 'BASE_IMAGE=debian:bookworm\n');
  for (let i = 0; i < n; i++) {
    const heavy = i % 50 === 0;
    files.set(`flavors/layers/l${i}.yaml`, heavy ? `run: install.sh\nargs:\n  L${i}_VERSION: "1"\n` : `env:\n  L${i}: "1"\n`);
    if (heavy) files.set(`artifacts/layers/l${i}/install.sh`, SCRIPT);
    const from = i === 0 ? 'from:\n  image: ${BASE_IMAGE}\n' : `from:\n  parent: c/v${i - 1}\n`;
    files.set(`flavors/c/v${i}/flavor.yaml`, `${from}layers: [l${i}]\n`);
  }
  return files;
}

const COMMANDS: Array<[string, string[]]> = [
  ['list', ['list']],
  ['plan --all', ['plan', '--all', '--driver', 'docker']],
  ['generate --all', ['generate', '--all']],
  ['build --dry-run --all (docker driver)', ['build', '--dry-run', '--all', '--driver', 'docker']],
  ['build --dry-run --all (buildx)', ['build', '--dry-run', '--all', '--driver', 'buildx']],
];

function time(dir: string, args: string[]): { ms: number; text: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, '-C', dir, ...args], {
    env: { ...process.env, GIT_TAG: 'v1.0.0', NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const status = r.status === 0 ? '' : ` (exit ${r.status ?? r.signal}: ${(r.stderr ?? '').split('\n')[0]!.slice(0, 120)})`;
  return { ms: r.status === 0 ? ms : Infinity, text: `${fmtMs(ms)}${status}` };
}

/** Markdown rows for BENCHMARKS.md: each command on both shapes, cold and warm; and the slowest run of all. */
export function scaleSection(n: number, say: (s?: string) => void): { slowestMs: number; slowest: string } {
  say(`| catalog | command | cold (no catalog cache) | warm |`);
  say('|---|---|---|---|');
  let slowestMs = 0;
  let slowest = '';
  for (const [name, files] of [
    [`${n} flavors in 50 trees`, wideCatalog(n)],
    [`a chain ${n} deep`, deepCatalog(n)],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-scale-'));
    write(dir, files);
    for (const [label, argv] of COMMANDS) {
      rmSync(join(dir, '.idekube/cache'), { recursive: true, force: true });
      const cold = time(dir, argv);
      const warm = time(dir, argv);
      say(`| ${name} | \`${label}\` | ${cold.text} | ${warm.text} |`);
      for (const t of [cold, warm]) if (t.ms > slowestMs) [slowestMs, slowest] = [t.ms, `${label} on ${name}`];
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { slowestMs, slowest };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const keep = args.includes('-k');
  const pos = args.filter((a) => a !== '-k');
  const n = Number(pos[0] ?? 5000);
  const which = pos[1] ?? 'both';
  console.log(`machine: ${machine()}`);
  const shapes: Array<[string, Files]> = [];
  if (which !== 'deep') shapes.push([`wide (${n} flavors)`, wideCatalog(n)]);
  if (which !== 'wide') shapes.push([`deep (a chain ${n} deep)`, deepCatalog(n)]);
  for (const [name, files] of shapes) {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-scale-'));
    write(dir, files);
    console.log(`\n${name}: ${files.size} files${keep ? ` in ${dir}` : ''}`);
    for (const [label, argv] of COMMANDS) {
      rmSync(join(dir, '.idekube/cache'), { recursive: true, force: true });
      const cold = time(dir, argv).text;
      const warm = time(dir, argv).text;
      console.log(`  ${label.padEnd(40)} cold ${cold.padEnd(12)} warm ${warm}`);
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
