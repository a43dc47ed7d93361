/**
 * QEMU root disks of the fixture flavor web/base: a cold build (empty QEMU cache: the Debian base rootfs, the base
 * disk, boot under TCG, provisioning from the flavor's layers, power-off) and a no-change rebuild (same inputs:
 * a cache hit), from `idekube qemu rootdisk --json` in a private copy of the fixture. One VM at a time: two TCG
 * guests on 2 cores would only slow each other down. `npm run bench` runs amd64-baked; the others are for
 * measuring by hand:
 *
 *   npx tsc -p . && node dist/bench/qemu.js [scenario…|all]
 *
 * Scenarios: amd64-baked (default), amd64-lean, child-amd64, arm64-baked, arm64-lean, image-amd64.
 *   baked: the fixture's QEMU_DEBIAN_PACKAGES are installed by mmdebstrap at host speed (emulated for arm64)
 *   lean:  the base has only the boot essentials; the layers' apt installs run in the guest under TCG
 *          (arm64-lean is ≈ 15–25 min on 2 cores)
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { fmtMs } from './lib.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'bin/idekube.js');

interface Scenario {
  name: string;
  args: string[];
  sets: string[];
}

const LEAN = ['QEMU_DEBIAN_PACKAGES='];
const SCENARIOS: Scenario[] = [
  { name: 'amd64-baked', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'amd64', '--accel', 'tcg'], sets: [] },
  { name: 'amd64-lean', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'amd64', '--accel', 'tcg'], sets: LEAN },
  // a derived flavor: web/base's disk (built first, as its parent) plus its own layer
  { name: 'child-amd64', args: ['qemu', 'rootdisk', 'web/extra', '--arch', 'amd64', '--accel', 'tcg'], sets: [] },
  { name: 'arm64-baked', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'arm64'], sets: [] },
  { name: 'arm64-lean', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'arm64'], sets: LEAN },
  { name: 'image-amd64', args: ['qemu', 'image', 'web/base', '--arch', 'amd64', '--accel', 'tcg'], sets: [] },
];

export interface QemuRow {
  scenario: string;
  /** Wall time of the cold run (empty cache), ms; undefined when it failed. */
  coldMs?: number;
  /** Steps of the cold run as idekube reported them, seconds. */
  steps: Record<string, number>;
  /** Wall time of the same command again (nothing changed), ms. */
  rebuildMs?: number;
  rebuildCached?: boolean;
  error?: string;
}

async function runOnce(dir: string, s: Scenario): Promise<{ ms: number; out?: Record<string, unknown>; error?: string }> {
  const t0 = Date.now();
  const r = await execa(
    process.execPath,
    [CLI, '-C', dir, '--git-tag', 'bench', ...s.sets.flatMap((x) => ['--set', x]), '--json', ...s.args],
    { reject: false, timeout: 3 * 3600_000, stderr: 'inherit' },
  );
  const ms = Date.now() - t0;
  if (r.exitCode !== 0) return { ms, error: `exit ${r.exitCode}` };
  return { ms, out: JSON.parse(String(r.stdout)) as Record<string, unknown> };
}

/** Runs each scenario cold in a fresh copy of the fixture, then once more unchanged. */
export async function qemuBench(names: string[]): Promise<QemuRow[]> {
  const rows: QemuRow[] = [];
  for (const s of SCENARIOS.filter((x) => names.includes(x.name))) {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-bench-qemu-'));
    try {
      const fixture = join(ROOT, 'test/fixtures/catalog');
      for (const n of ['.dockerargs', 'flavors', 'artifacts']) cpSync(join(fixture, n), join(dir, n), { recursive: true });
      process.stderr.write(`== ${s.name}: cold\n`);
      const cold = await runOnce(dir, s);
      if (!cold.out) {
        rows.push({ scenario: s.name, steps: {}, error: cold.error! });
        continue;
      }
      const steps = (cold.out.timings ?? (cold.out.images as Array<Record<string, number>> | undefined)?.[0] ?? {}) as Record<
        string,
        number
      >;
      process.stderr.write(`== ${s.name}: no-change rebuild\n`);
      const again = await runOnce(dir, s);
      rows.push({
        scenario: s.name,
        coldMs: cold.ms,
        steps,
        ...(again.out ? { rebuildMs: again.ms, rebuildCached: again.out.cached === true } : { error: `rebuild: ${again.error}` }),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

export function qemuMarkdown(rows: QemuRow[]): string[] {
  const lines = [
    '| scenario | cold build | steps of the cold build (s) | no-change rebuild | rebuild was a cache hit |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const steps = Object.entries(r.steps)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `| ${r.scenario} | ${r.coldMs !== undefined ? fmtMs(r.coldMs) : `failed (${r.error})`} | ${steps || '-'} | ${r.rebuildMs !== undefined ? fmtMs(r.rebuildMs) : (r.error ?? '-')} | ${r.rebuildCached === undefined ? '-' : r.rebuildCached ? 'yes' : 'no'} |`,
    );
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const wanted = process.argv.slice(2);
  const names = wanted.includes('all') ? SCENARIOS.map((s) => s.name) : wanted.length ? wanted : ['amd64-baked'];
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.name).join(', ')} or all`);
    process.exit(2);
  }
  qemuBench(names)
    .then((rows) => console.log(qemuMarkdown(rows).join('\n')))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
