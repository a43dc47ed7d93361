/**
 * Section 8 of `npm run bench`: buildx bake against the docker driver on the current engine (dockerd 28 with the
 * containerd image store, buildx 0.29 — test/env/current-engine.sh), cold and warm, for the fixture catalog; and a
 * fresh CI runner (build cache emptied, the catalog's images removed) with and without the registry cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine } from '../src/engine/connect.js';
import { coldStart as emptyEngine, fmtMs, median } from './lib.js';

const ENGINE_HOST = 'unix:///run/idekube-test-engine/docker.sock';
const ENGINE_BIN = '/opt/idekube-test-engine/usr';

export interface CurrentEngineBench {
  /** Runs the CLI on the fixture (`--json` result), with extra environment. */
  idekube: (args: string[], env: Record<string, string>) => { ms: number; result: any };
  say: (s?: string) => void;
  /** The apt cache's proxy URL, reached by RUN steps on the host network. */
  aptProxy: string;
  registry: string;
  tag: string;
}

type Driver = 'docker' | 'buildx';
const BOTH = ['--platform', 'linux/amd64,linux/arm64'];
const NET = ['--network', 'host'];

/** Figures for the Targets table (the issue sets no target for them). */
export interface Measured {
  what: string;
  measured: string;
}

export async function currentEngineSection(b: CurrentEngineBench): Promise<Measured[]> {
  const { say } = b;
  const config = mkdtempSync(join(tmpdir(), 'idekube-bench-current-'));
  mkdirSync(join(config, 'cli-plugins'));
  symlinkSync(join(ENGINE_BIN, 'libexec/docker/cli-plugins/docker-buildx'), join(config, 'cli-plugins/docker-buildx'));
  writeFileSync(join(config, 'config.json'), JSON.stringify({ proxies: { default: { httpProxy: b.aptProxy } } }));
  const env = { DOCKER_HOST: ENGINE_HOST, DOCKER_CONFIG: config, PATH: `${ENGINE_BIN}/bin:${process.env.PATH}` };
  const engine = await connectEngine(ENGINE_HOST);
  const version = (args: string[]) => spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, ...env } }).stdout.trim();
  const verdicts: Measured[] = [];
  // the bench's and the tests' images of this engine go (the Debian base and other repositories stay), then dangling
  // images and the whole build cache
  const ours = (ref: string) =>
    [`${b.registry}/idekube-bench-current/`, `${b.registry}/idekube-test/`, `${b.registry}/idekube-it/`].some((p) => ref.startsWith(p)) &&
    !ref.startsWith(`${b.registry}/idekube-test/debian`);
  const coldStart = () => emptyEngine(engine, ours);
  try {
    say('## 8. buildx bake vs the docker driver on the current engine');
    say();
    say(
      `Engine: dockerd ${version(['version', '--format', '{{.Server.Version}}'])} with the containerd image store, ${version(['buildx', 'version'])} (builder \`default\`, driver docker), the loopback registry, apt packages from the same local cache as section 2. Each run publishes the whole fixture catalog (6 targets, amd64 + arm64) under its own repository; cold: the engine's build cache and the bench's images removed first.`,
    );
    say();
    const name = (driver: Driver, what: string) => ({ NAME: `idekube-bench-current/${driver}-${what}-${b.tag}` });
    const publish = (driver: Driver, what: string, extra: string[] = []) =>
      b.idekube(['--git-tag', b.tag, 'publish', '--all', '--driver', driver, ...BOTH, ...NET, ...extra], { ...env, ...name(driver, what) });
    // untimed: every package both drivers need lands in the apt cache first (as in section 2)
    await coldStart();
    publish('docker', 'warmup');
    const rows: Array<[string, string, string]> = [];
    const cold: Record<Driver, number> = { docker: 0, buildx: 0 };
    const warm: Record<Driver, number> = { docker: 0, buildx: 0 };
    for (const driver of ['docker', 'buildx'] as const) {
      await coldStart();
      cold[driver] = publish(driver, 'cold').ms;
      const runs: number[] = [];
      let rebuilt = 0;
      for (let i = 0; i < 3; i++) {
        const w = publish(driver, 'cold');
        runs.push(w.ms);
        rebuilt += (w.result.targets as Array<{ status: string }>).filter((t) => t.status !== 'cached').length;
      }
      warm[driver] = median(runs);
      rows.push([driver, fmtMs(cold[driver]), `${fmtMs(warm[driver])} (${rebuilt} targets rebuilt in 3 runs)`]);
    }
    say('| driver | cold publish | warm publish, nothing changed (median of 3) |');
    say('|---|---|---|');
    for (const [d, c, w] of rows) say(`| ${d} | ${c} | ${w} |`);
    say(`| **bake / docker** | **${(cold.buildx / cold.docker).toFixed(2)}×** | **${(warm.buildx / warm.docker).toFixed(2)}×** |`);
    say();
    verdicts.push({
      what: 'bake vs docker driver (dockerd 28)',
      measured: `cold ${(cold.buildx / cold.docker).toFixed(2)}×, warm ${(warm.buildx / warm.docker).toFixed(2)}×`,
    });

    say('### A fresh CI runner: the registry cache');
    say();
    say(
      'First a publish with `--cache registry` fills the cache (buildx: `cache-to type=registry,mode=max` under `…:buildcache-<flavor>`; docker driver: inline cache in the images it pushes, also tagged `…:buildcache-<flavor>-<arch>`). Then, for each case, the engine is emptied as on a fresh runner and the catalog built for linux/amd64 (`build --all`, no push; amd64 alone keeps the section within its time) with `--cache registry` (cache imported from the registry) and without.',
    );
    say();
    say('| driver | fresh runner, no cache | fresh runner, `--cache registry` | ratio | targets cached |');
    say('|---|---|---|---|---|');
    for (const driver of ['docker', 'buildx'] as const) {
      publish(driver, 'cache', ['--cache', 'registry']);
      const build = (extra: string[]) =>
        b.idekube(['--git-tag', b.tag, 'build', '--all', '--driver', driver, '--platform', 'linux/amd64', ...NET, ...extra], {
          ...env,
          ...name(driver, 'cache'),
        });
      await coldStart();
      const without = build([]);
      await coldStart();
      const withCache = build(['--cache', 'registry']);
      const cachedTargets = (withCache.result.targets as Array<{ status: string }>).filter((t) => t.status === 'cached').length;
      say(
        `| ${driver} | ${fmtMs(without.ms)} | ${fmtMs(withCache.ms)} | ${(withCache.ms / without.ms).toFixed(2)}× | ${cachedTargets} of ${withCache.result.targets.length} |`,
      );
      verdicts.push({
        what: `fresh runner, ${driver}`,
        measured: `--cache registry ${(withCache.ms / without.ms).toFixed(2)}× of no cache, ${cachedTargets} of ${withCache.result.targets.length} targets cached`,
      });
    }
    say();
    say(
      'Without `--push` buildx exports nothing (`type=cacheonly`), while the docker driver always stores the image in the engine: compare each driver with itself here, and the two drivers in the publish table above.',
    );
    say();
  } finally {
    await coldStart().catch(() => {});
    rmSync(config, { recursive: true, force: true });
  }
  return verdicts;
}
