/**
 * QEMU figures that are too heavy for the integration tests: full provisioning of the fixture flavor web/base
 * from its manifest, per architecture, with and without packages pre-installed in the Debian base.
 * Prints measured seconds per step (from `idekube qemu rootdisk --json`), one scenario at a time (one VM at a
 * time: two TCG guests on 2 cores would only slow each other down).
 *
 *   npx tsc -p . && sudo node dist/bench/qemu.js [scenario…]
 *
 * Scenarios: amd64-lean, amd64-baked, child-amd64, arm64-lean, arm64-baked, image-amd64 (default: all but arm64;
 * `all` runs every one; arm64-lean is ≈ 15–25 min on 2 cores).
 *   lean:  the base has only the boot essentials; the layers' apt installs run in the guest under TCG
 *   baked: the fixture's QEMU_DEBIAN_PACKAGES are installed by mmdebstrap at host speed (emulated for arm64)
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'bin/idekube.js');

interface Scenario {
  name: string;
  args: string[];
  sets: string[];
}

const LEAN = ['QEMU_DEBIAN_PACKAGES='];
const SCENARIOS: Scenario[] = [
  { name: 'amd64-lean', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'amd64', '--accel', 'tcg'], sets: LEAN },
  { name: 'amd64-baked', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'amd64', '--accel', 'tcg'], sets: [] },
  // a derived flavor: a copy of web/base's disk plus its own layer (web/base comes from the cache when built)
  { name: 'child-amd64', args: ['qemu', 'rootdisk', 'web/extra', '--arch', 'amd64', '--accel', 'tcg'], sets: [] },
  { name: 'arm64-lean', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'arm64'], sets: LEAN },
  { name: 'arm64-baked', args: ['qemu', 'rootdisk', 'web/base', '--arch', 'arm64'], sets: [] },
  { name: 'image-amd64', args: ['qemu', 'image', 'web/base', '--arch', 'amd64', '--accel', 'tcg'], sets: [] },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const list = wanted.includes('all') ? SCENARIOS : wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS.filter((s) => !s.name.startsWith('arm64'));
  const dir = mkdtempSync(join(tmpdir(), 'idekube-bench-qemu-'));
  const fixture = join(ROOT, 'test/fixtures/catalog');
  for (const n of ['.dockerargs', 'flavors', 'artifacts']) cpSync(join(fixture, n), join(dir, n), { recursive: true });
  const rows: string[][] = [];
  try {
    for (const s of list) {
      process.stderr.write(`== ${s.name}\n`);
      const t0 = Date.now();
      const r = await execa(process.execPath, [CLI, '-C', dir, '--git-tag', 'bench', ...s.sets.flatMap((x) => ['--set', x]), '--json', ...s.args], { reject: false, timeout: 3 * 3600_000, stderr: 'inherit' });
      const total = (Date.now() - t0) / 1000;
      if (r.exitCode !== 0) {
        rows.push([s.name, 'FAILED', `exit ${r.exitCode}`]);
        continue;
      }
      const out = JSON.parse(String(r.stdout));
      const t = (out.timings ?? out.images?.[0] ?? {}) as Record<string, number>;
      rows.push([s.name, total.toFixed(1), JSON.stringify(t)]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('scenario\ttotal s\tsteps (s)');
  for (const r of rows) console.log(r.join('\t'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
