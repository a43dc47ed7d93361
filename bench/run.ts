/**
 * `npm run bench`: measures idekube against the upstream-style flow and against the engine's own floor, on the
 * fixture catalog, and rewrites BENCHMARKS.md with the figures it printed. Needs the test environment
 * (sudo bash test/env/setup.sh). It prunes the engine's BUILD cache (not images) before each cold build, so run it
 * on a machine where that is acceptable. Usage: node dist/bench/run.js [--skip-cold]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../src/config/project.js';
import { buildImage } from '../src/engine/build.js';
import { connectEngine, type Engine } from '../src/engine/connect.js';
import { pushTag } from '../src/engine/push.js';
import { generateFlavor } from '../src/generate/flavor.js';
import { contextSize } from '../src/generate/write.js';
import { makePlan } from '../src/plan/make-plan.js';
import { RegistryClient } from '../src/registry/client.js';
import { parseRef } from '../src/registry/types.js';
import { cliLatency } from './cli-latency.js';
import { fmtMs, machine, median } from './lib.js';
import { upstreamRef, upstreamStyleBuild, type UpstreamStyleOptions } from './upstream-style.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/catalog');
const CLI = join(ROOT, 'bin/idekube.js');
const REGISTRY = process.env.IDEKUBE_TEST_REGISTRY ?? '127.0.0.1:5000';
const out: string[] = [];
const say = (s = '') => {
  console.log(s);
  out.push(s);
};

function idekube(args: string[], env: Record<string, string> = {}): { ms: number; result: any } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, '-C', FIXTURE, '--json', ...args], { encoding: 'utf8', env: { ...process.env, REGISTRY, ...env }, maxBuffer: 256 * 1024 * 1024 });
  const ms = Date.now() - t0;
  if (r.status !== 0) throw new Error(`idekube ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return { ms, result: JSON.parse(r.stdout) };
}

/**
 * A cold start: every image of the bench's and the fixture's repositories goes (their layers would otherwise be
 * reused by BuildKit even after its cache is pruned), then the build cache. Other repositories are not touched.
 */
async function pruneBuildCache(engine: Engine): Promise<void> {
  const ours = [`${REGISTRY}/idekube-test/fixture`, `${REGISTRY}/idekube-bench/upstream`, `${REGISTRY}/idekube-test/broken`];
  for (const img of await engine.listImages()) {
    for (const tag of img.RepoTags ?? []) {
      if (ours.some((r) => tag.startsWith(`${r}:`))) await engine.getImage(tag).remove({ force: true }).catch(() => {});
    }
  }
  await (engine as unknown as { pruneBuilder: (o: object) => Promise<unknown> }).pruneBuilder({ all: true });
}

async function removeTags(engine: Engine, refs: string[]): Promise<void> {
  for (const r of refs) await engine.getImage(r).remove({ force: true }).catch(() => {});
}

/** Layers of a pushed per-arch image: digest → compressed size. */
async function layersOf(ref: string): Promise<Map<string, number>> {
  const { registry, repository, reference } = parseRef(ref);
  const m = await new RegistryClient(registry).getManifest(repository, reference);
  return new Map((m!.json.layers as Array<{ digest: string; size: number }>).map((l) => [l.digest, l.size]));
}

function shared(a: Map<string, number>, b: Map<string, number>): { count: number; bytes: number; of: number; unique: number } {
  let count = 0;
  let bytes = 0;
  let total = 0;
  for (const [d, s] of a) {
    total += s;
    if (b.has(d)) {
      count++;
      bytes += s;
    }
  }
  for (const [d, s] of b) if (!a.has(d)) total += s;
  return { count, bytes, of: Math.max(a.size, b.size), unique: total - bytes };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const skipCold = process.argv.includes('--skip-cold');
  const started = Date.now();
  const engine = await connectEngine();
  const tag = `bench-${Date.now().toString(36)}`;
  say('# Benchmarks');
  say();
  say(`Written by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`);
  say(`Machine: ${machine()}.`);
  say('Every figure below is the one the script printed in this run. Ratios are measured side by side in the same run.');
  say();

  // 1. CLI latency
  say('## 1. CLI latency (production catalog, median of 15 interleaved runs)');
  say();
  const lat = cliLatency(15);
  say('| command | median | vs `node -e 0` |');
  say('|---|---|---|');
  say(`| \`node -e 0\` (floor) | ${fmtMs(lat.floorMs)} | 1.00× |`);
  for (const r of lat.rows) say(`| \`${r.command}\` | ${fmtMs(r.medianMs)} | ${r.ratio.toFixed(2)}× |`);
  say();

  const project = loadProject({ dir: FIXTURE, sets: [], flags: { GIT_TAG: tag, REGISTRY }, env: {} });
  const generatedRoot = join(FIXTURE, '.idekube/build/default');
  const up: UpstreamStyleOptions = { project, repoRoot: ROOT, generatedRoot, repo: `${REGISTRY}/idekube-bench/upstream`, gitTag: tag, archs: ['amd64', 'arm64'] };
  const plan = makePlan(project, { flavors: project.catalog.order, driver: 'docker', push: false, cache: 'none', aliases: [], contextRoot: generatedRoot });
  const ourTags = plan.targets.map((t) => t.tag);
  const theirTags = plan.targets.flatMap((t) => [upstreamRef(up, t.flavor, t.arch), upstreamRef(up, t.flavor)]);

  // 2. cold catalog build
  say('## 2. Cold catalog build (fixture catalog, linux/amd64 + linux/arm64)');
  say();
  if (skipCold) {
    say('Skipped (--skip-cold).');
    say();
  } else {
    say('Build cache pruned and the images removed before each flow; apt packages come from the network each time (no local cache), so both flows pay the same downloads. One run each (a cold run of both takes most of the time budget).');
    say();
    await removeTags(engine, [...ourTags, ...theirTags]);
    await pruneBuildCache(engine);
    const ours = idekube(['--git-tag', tag, 'build', '--all', '--platform', 'linux/amd64,linux/arm64', '--jobs', '2']);
    idekube(['--git-tag', tag, 'generate', '--all']);
    await removeTags(engine, theirTags);
    await pruneBuildCache(engine);
    const theirs = await upstreamStyleBuild(engine, up);
    say('| flow | wall time | builds |');
    say('|---|---|---|');
    say(`| idekube (\`build --all --jobs 2\`) | ${fmtMs(ours.ms)} | ${plan.targets.length} targets |`);
    say(`| upstream-style (sequential, whole repo as context) | ${fmtMs(theirs.wallMs)} | ${theirs.builds.length} builds |`);
    say(`| **ratio idekube / upstream-style** | **${(ours.ms / theirs.wallMs).toFixed(2)}×** | target ≤ 0.60× |`);
    say();
  }

  // 3. warm no-op rebuild vs the floor
  say('## 3. Warm no-op rebuild vs the bare-cache floor (median of 3)');
  say();
  idekube(['--git-tag', tag, 'build', '--all', '--platform', 'linux/amd64,linux/arm64']);
  const warm: number[] = [];
  const floor: number[] = [];
  let rebuilt = 0;
  for (let i = 0; i < 3; i++) {
    const w = idekube(['--git-tag', tag, 'build', '--all', '--platform', 'linux/amd64,linux/arm64']);
    warm.push(w.ms);
    rebuilt += w.result.targets.filter((t: { status: string }) => t.status !== 'cached').length;
    const f0 = Date.now();
    for (const t of plan.targets) await buildImage(engine, { contextDir: t.contextDir, platform: t.platform, tags: [t.tag], buildArgs: t.buildArgs, labels: t.labels });
    floor.push(Date.now() - f0);
  }
  say('| what | median |');
  say('|---|---|');
  say(`| \`idekube build --all\` (nothing changed; includes Node start, catalog load, generate, plan) | ${fmtMs(median(warm))} |`);
  say(`| floor: ${plan.targets.length} bare cached BuildKit builds of the same contexts, back to back | ${fmtMs(median(floor))} |`);
  say(`| **ratio** | **${(median(warm) / median(floor)).toFixed(2)}×** (target ≤ 1.5×) |`);
  say(`| targets rebuilt in the warm runs | ${rebuilt} |`);
  say();

  // 4. incremental rebuild
  say('## 4. Incremental rebuild: one layer of a child flavor changes');
  say();
  const inc = idekube(['--git-tag', tag, '--set', `MARKER_TEXT=changed ${tag}`, 'build', '--all', '--platform', 'linux/amd64,linux/arm64']);
  say('`--set MARKER_TEXT=…` changes the `child-marker` layer of `web/extra` only.');
  say();
  say('| target | status | steps run / cached | steps that ran |');
  say('|---|---|---|---|');
  for (const t of inc.result.targets) say(`| ${t.id} | ${t.status} | ${t.executed ?? '-'} / ${t.cachedSteps ?? '-'} | ${(t.ran ?? []).map((n: string) => `\`${n.replace(/\s+/g, ' ').replace(/--mount=\S+ /g, '').slice(0, 70)}\``).join('<br>')} |`);
  say(`| wall time | ${fmtMs(inc.ms)} | | |`);
  say();

  // 5. shared layers and 6. context size
  say('## 5. Layers shared between sibling flavors in the registry (web/base vs desk/base, amd64)');
  say();
  {
    for (const t of plan.targets.filter((x) => x.arch === 'amd64' && (x.flavor === 'web/base' || x.flavor === 'desk/base'))) {
      await pushTag(engine, t.tag);
      await pushTag(engine, upstreamRef(up, t.flavor, 'amd64')).catch(async () => {
        await upstreamStyleBuild(engine, { ...up, archs: ['amd64'] });
        await pushTag(engine, upstreamRef(up, t.flavor, 'amd64'));
      });
    }
    const a = shared(await layersOf(plan.targets.find((t) => t.id === 'web/base@linux/amd64')!.tag), await layersOf(plan.targets.find((t) => t.id === 'desk/base@linux/amd64')!.tag));
    const b = shared(await layersOf(upstreamRef(up, 'web/base', 'amd64')), await layersOf(upstreamRef(up, 'desk/base', 'amd64')));
    say('| Dockerfiles | shared layers | shared bytes (compressed) | registry bytes for both images |');
    say('|---|---|---|---|');
    say(`| idekube | ${a.count} of ${a.of} | ${mib(a.bytes)} | ${mib(a.unique + a.bytes)} |`);
    say(`| upstream-style | ${b.count} of ${b.of} | ${mib(b.bytes)} | ${mib(b.unique + b.bytes)} |`);
  }
  say();
  say('## 6. Build context sent per build');
  say();
  const sizes = project.catalog.order.map((id) => [id, contextSize(generateFlavor(project, id))] as const);
  const repoBytes = Number(spawnSync('du', ['-sb', '--exclude=node_modules', ROOT], { encoding: 'utf8' }).stdout.split('\t')[0]);
  say('| flavor | idekube context | upstream-style context (whole repo) |');
  say('|---|---|---|');
  for (const [id, b] of sizes) say(`| ${id} | ${(b / 1024).toFixed(1)} KiB | ${mib(repoBytes)} |`);
  say();

  // 7. QEMU
  say('## 7. QEMU root disk');
  say();
  const qemuBench = join(ROOT, 'dist/bench/qemu.js');
  if (existsSync(qemuBench)) {
    const q = spawnSync(process.execPath, [qemuBench, '--markdown'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    say(q.status === 0 ? q.stdout.trim() : `bench/qemu.ts failed (${q.status}): ${q.stderr.slice(-500)}`);
  } else say('Not measured: bench/qemu.ts is not built.');
  say();
  say(`Total benchmark time: ${fmtMs(Date.now() - started)}.`);
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), `${out.join('\n')}\n`);
  await removeTags(engine, [...ourTags, ...theirTags]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
