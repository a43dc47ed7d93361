/**
 * Tests one image: reads what it declares, starts it (port 80 on 127.0.0.1), waits until it serves, runs the
 * checks its services call for — on the main container, after a restart, and in containers of their own (bad
 * keys, arbitrary uid, persistent root, an access token, an invalid one, a home volume across re-created
 * containers) at the same time, a few at once — and removes everything it created.
 */
import { RunError } from '../config/errors.js';
import type { Engine } from '../engine/connect.js';
import { authorizedKeysValue, generateKeyPair } from './checks/ssh.js';
import { TestSession } from './container.js';
import { inside } from './exec.js';
import { ensureImage, probeImage } from './image.js';
import { describeReadiness, waitReady } from './ready.js';
import { mainCheck, type MainState } from './main-checks.js';
import { failAll, limited, measure } from './measure.js';
import { metadataVerdict, planChecks, type PlannedCheck } from './registry.js';
import { ACCESS_CHECKS, checkAccessInvalid, runAccessScenario } from './runtime/access.js';
import { checkAnyUid } from './runtime/any-uid.js';
import { checkBadKeys } from './runtime/bad-keys.js';
import { changeHome, checkHomeKeeps, checkHomeVolume, type HomeChanges } from './runtime/home.js';
import { HOOK_NAME, HOOK_TEXT, HOOKS_DIR } from './runtime/hooks.js';
import { checkRootfs } from './runtime/rootfs.js';
import type { ScenarioEnv } from './runtime/scenario.js';
import { pickShell } from './runtime/shell.js';
import { runVolumeScenario } from './runtime/uid-remap.js';
import { commandsFromMetadata, servicesFromMetadata } from './subject.js';
import { fail, type CheckResult, type ImageFacts, type ImageReport, type Subject } from './types.js';

export interface TestOptions {
  /** Run only these checks (names, or name prefixes before a space). */
  only?: string[];
  /** Bound for a container to come up (readiness), and for polling checks. */
  timeoutMs: number;
  keep: boolean;
  /** Save a PNG of the desktop here (desktop images only). */
  screenshot?: string;
  chromium?: string;
  env: NodeJS.ProcessEnv;
  /** Ask the engine for GPUs (NVIDIA runtime). */
  gpus: boolean;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/** Scenario containers running at once, next to the main one. */
export const SCENARIOS = 3;

/** Sessions not yet cleaned up, so that an interrupt can remove what they made. */
export const activeSessions = new Set<TestSession>();

/** No main container: --only selected scenario checks alone. */
class SkipMain extends Error {}

/**
 * `--only`: the planned checks whose name is one of `only`, or starts with one of them and a space (`auth` selects
 * `auth 401`, `auth query`…; `health` selects `health`, `health degraded`, `health 502`). Skips stay listed.
 */
export function selectChecks(planned: PlannedCheck[], only: string[] | undefined): PlannedCheck[] {
  if (!only?.length) return planned;
  const picked = (name: string) => only.some((o) => name === o || name.startsWith(`${o} `));
  return planned.filter((p) => picked(p.name));
}

export async function testImage(engine: Engine, given: Subject, opts: TestOptions): Promise<ImageReport> {
  const t0 = Date.now();
  let subject = given;
  const log = opts.log ?? (() => {});
  const session = new TestSession(engine);
  activeSessions.add(session);
  const results = new Map<string, CheckResult>();
  let planned: PlannedCheck[] = [];
  const base = `${subject.flavor ?? 'image'}-${subject.platform.split('/')[1] ?? subject.platform}`;
  let kept: string[] = [];
  let screenshot: string | undefined;
  const body = async (): Promise<void> => {
    let facts: ImageFacts;
    {
      const r = await measure('image', async () => {
        const pullMs = Math.max(opts.timeoutMs, 300_000);
        let info;
        try {
          info = await ensureImage(engine, subject.image, pullMs);
        } catch (e) {
          // buildx bake tags (and pushes) the multi-arch name only: take that, for this platform
          if (!subject.alternate) throw e;
          info = await ensureImage(engine, subject.alternate, pullMs, subject.platform).catch(() => Promise.reject(e));
          subject = { ...subject, image: subject.alternate };
        }
        const arch = subject.platform.split('/')[1];
        if (arch && info.Architecture !== arch) fail(`${subject.image} is built for ${info.Architecture}, not ${subject.platform}`);
        facts = await probeImage(engine, subject.image, subject.platform, info, session.name(base), opts.timeoutMs);
        return `${subject.image} (${info.Architecture}, ${(info.Size / 2 ** 20).toFixed(0)} MiB)`;
      });
      if (r.status !== 'pass') {
        results.set('image', r);
        return;
      }
    }
    facts = facts!;
    if (subject.source === 'image') {
      // --image without a flavor: the image says what it is
      subject = { ...subject, flavor: facts.labels['io.idekube.flavor'] ?? facts.metadata?.flavor ?? null, services: servicesFromMetadata(facts.metadata), ...commandsFromMetadata(facts.metadata) };
      if (!facts.metadata) {
        results.set('metadata', { name: 'metadata', status: 'fail', message: `${subject.image} has no /etc/idekube/flavor.json: not an idekube image (or built without services), nothing to test`, durationMs: 0 });
        return;
      }
    }
    planned = selectChecks(planChecks(subject, facts, { screenshot: Boolean(opts.screenshot) }), opts.only);
    const meta = await measure('metadata', async () => metadataVerdict(subject, facts));
    results.set('metadata', meta);
    for (const p of planned.filter((x) => x.group === 'skip')) results.set(p.name, { name: p.name, status: 'skipped', message: p.reason ?? '', durationMs: 0 });
    // the main container serves the main and restart checks; --only may leave scenarios alone
    const needMain = planned.some((p) => p.group === 'main' || p.group === 'restart');
    if (!planned.some((p) => p.group !== 'skip' && p.group !== 'image')) return;

    const keys = await generateKeyPair(`idekube-test@${session.id}`);
    const shell = pickShell(facts);
    const has = (g: string) => planned.some((p) => p.group === g);
    const scenarioEnv: ScenarioEnv = { session, subject, facts, base, timeoutMs: opts.timeoutMs, keep: opts.keep, gpus: opts.gpus };

    // containers of their own, at the same time as the main one; at most SCENARIOS at once (each starts every
    // service of the image), the longest first
    const set = (r: CheckResult) => void results.set(r.name, r);
    const named = (g: string) => planned.filter((p) => p.group === g).map((p) => p.name);
    const guarded = (names: string[], run: () => Promise<CheckResult[]>) => () => run().then((rs) => rs.forEach(set), (e: Error) => failAll(names, e.message).forEach(set));
    const tasks: Array<() => Promise<void>> = [];
    if (has('rootfs')) {
      tasks.push(() =>
        checkRootfs(scenarioEnv, Math.max(opts.timeoutMs, 300_000)).then(
          (r) => {
            results.set('init container', { name: 'init container', ...r.init });
            results.set('chroot', { name: 'chroot', ...r.chroot });
          },
          (e: Error) => {
            results.set('init container', { name: 'init container', status: 'fail', message: e.message, durationMs: 0 });
            results.set('chroot', { name: 'chroot', status: 'skipped', message: 'the init container did not run', durationMs: 0 });
          },
        ),
      );
    }
    if (has('access')) {
      const names = named('access').filter((n) => (ACCESS_CHECKS as readonly string[]).includes(n));
      tasks.push(guarded(names, () => runAccessScenario(scenarioEnv, names)));
    }
    if (has('volume')) {
      const names = named('volume');
      const terminal = subject.services.find((s) => s.name === planned.find((p) => p.name === 'uid remap' && p.group === 'volume')?.service);
      tasks.push(guarded(names, () => runVolumeScenario(scenarioEnv, { ...(terminal ? { remap: terminal } : {}), key: names.includes('host key kept') })));
    }
    if (has('bad-keys')) tasks.push(() => measure('bad keys', () => checkBadKeys(scenarioEnv)).then(set));
    if (has('any-uid')) tasks.push(() => measure('any uid', () => checkAnyUid(scenarioEnv)).then(set));
    if (has('access-invalid')) tasks.push(() => measure('access invalid', () => checkAccessInvalid(scenarioEnv)).then(set));
    const scenarios = limited(SCENARIOS, tasks);

    // the main container: empty home volume, a mounted hook, a generated key, another login shell
    const mainChecks = planned.filter((p) => p.group === 'main');
    const mainNames = mainChecks.map((p) => p.name);
    const restartNames = planned.filter((p) => p.group === 'restart').map((p) => p.name);
    try {
      if (!needMain) throw new SkipMain();
      const env: Record<string, string> = {};
      const mounts: Array<{ volume: string; target: string; nocopy?: boolean }> = [];
      if (facts.hasRuntime) {
        if (facts.user) {
          env.IDEKUBE_INIT_HOME = '1';
          mounts.push({ volume: await session.volume(base, 'home'), target: facts.user.home, nocopy: true });
        }
        if (shell) env.IDEKUBE_PREFERED_SHELL = shell;
        mounts.push({ volume: await session.volume(base, 'hooks'), target: HOOKS_DIR });
      }
      if (subject.services.some((s) => s.check === 'ssh')) env.IDEKUBE_AUTHORIZED_KEYS = authorizedKeysValue(keys);
      const privileged = subject.services.some((s) => s.check === 'dind');
      const c = await session.create({ name: session.name(base, 'main'), image: subject.image, platform: subject.platform, env, publish: true, mounts, privileged, gpus: opts.gpus });
      if (facts.hasRuntime) await c.putFiles(HOOKS_DIR, [{ name: HOOK_NAME, text: HOOK_TEXT, mode: 0o644 }]);
      await c.start();
      log(`${subject.flavor ?? subject.image}@${subject.platform}: started ${c.name} on http://127.0.0.1:${c.port}/`);
      const routes = subject.services.flatMap((s) => s.routes);
      const ready = await waitReady(c, routes, { timeoutMs: opts.timeoutMs, ...(facts.hasRuntime ? { programs: inside(c).exec } : {}) });
      log(`${subject.flavor ?? subject.image}@${subject.platform}: ${describeReadiness(ready, c.port).split('\n')[0]}`);
      const m: MainState = { c, inside: inside(c), ready, keys, shell };
      const run = (p: PlannedCheck) => (ready.exited && p.name !== 'nginx' ? measure(p.name, async () => fail(`the container is not running (exit ${ready.exited!.code})`)) : measure(p.name, mainCheck(p, subject, facts, m, opts)));
      // the screenshot needs the desktop the vnc check proves: it runs after it, and fails at once without it
      const shotCheck = mainChecks.find((p) => p.name === 'screenshot');
      const done = await limited(3, mainChecks.filter((p) => p !== shotCheck).map((p) => () => run(p)));
      for (const r of done) results.set(r.name, r);
      if (shotCheck) {
        const vnc = [...results.values()].find((r) => planned.find((p) => p.name === r.name)?.service === shotCheck.service && r.name !== 'gpu' && r.name !== 'screenshot');
        results.set('screenshot', vnc && vnc.status === 'fail' ? { name: 'screenshot', status: 'fail', message: `no desktop to take a picture of: the ${vnc.name} check failed (${vnc.message.split('\n')[0]})`, durationMs: 0 } : await run(shotCheck));
      }
      const shot = results.get('screenshot');
      if (shot?.status === 'pass') screenshot = opts.screenshot;

      if (restartNames.length) {
        const homeInit = results.get('home init');
        let changes: HomeChanges | undefined;
        const r0 = await measure('home volume', async () => {
          if (ready.exited) fail('the container is not running');
          if (!facts.user) fail(`the image has no user ${facts.env.USERNAME || 'idekube'}`);
          changes = await changeHome(m.inside.exec, facts, session.id);
          await c.restart(10);
          // a container that never served is not waited for again: the volume is what this check is about
          const again = await waitReady(c, routes, { timeoutMs: ready.nginx ? opts.timeoutMs : Math.min(opts.timeoutMs, 10_000), programs: inside(c).exec });
          if (again.exited) fail(`after a restart: ${describeReadiness(again, c.port)}`);
          const volume = await checkHomeVolume(m.inside.exec, facts, changes);
          if (ready.nginx && !again.nginx) fail(`${volume}, but after the restart ${describeReadiness(again, c.port)}`);
          return `${volume}${again.nginx ? '; serving again' : ''}`;
        });
        results.set('home volume', r0);
        results.set(
          'home keeps changes',
          changes
            ? await measure('home keeps changes', async () => {
                if (homeInit && homeInit.status !== 'pass' && !changes!.changed) fail('the home was not populated');
                return checkHomeKeeps(m.inside.exec, facts, changes!);
              })
            : { name: 'home keeps changes', status: r0.status === 'fail' ? 'fail' : 'skipped', message: `nothing was changed before the restart: ${r0.message}`, durationMs: 0 },
        );
      }
    } catch (e) {
      if (!(e instanceof SkipMain)) {
        const message = (e as Error).message;
        for (const n of [...mainNames, ...restartNames]) if (!results.has(n)) results.set(n, { name: n, status: 'fail', message, durationMs: 0 });
      }
    }
    await scenarios;
  };
  try {
    await body();
  } finally {
    if (opts.keep) kept = session.resources();
    else {
      const problems = await session.cleanup();
      for (const p of problems) log(`warning: could not remove ${p}`);
    }
    activeSessions.delete(session);
  }
  return report();

  function report(): ImageReport {
    const order = ['image', ...planned.map((p) => p.name)];
    const checks = [...results.values()].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    return {
      session: session.id,
      flavor: subject.flavor,
      image: subject.image,
      platform: subject.platform,
      passed: checks.every((c) => c.status !== 'fail') && checks.length > 0,
      checks,
      kept,
      ...(screenshot ? { screenshot } : {}),
      durationMs: Date.now() - t0,
    };
  }
}

/** Turns an unexpected error into a one-check report (the run goes on with other images). */
export function errorReport(subject: Subject, e: unknown): ImageReport {
  const message = e instanceof RunError ? e.message : (e as Error).message;
  return { session: '', flavor: subject.flavor, image: subject.image, platform: subject.platform, passed: false, checks: [{ name: 'image', status: 'fail', message, durationMs: 0 }], kept: [], durationMs: 0 };
}
