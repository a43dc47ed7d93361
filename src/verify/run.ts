/**
 * Tests one image: reads what it declares, starts it (port 80 on 127.0.0.1), waits until it serves, runs the
 * checks its services call for — on the main container, after a restart, and in containers of their own (bad
 * keys, arbitrary uid, persistent root, an access token, an invalid one, a home volume across re-created
 * containers) at the same time, a few at once — and removes everything it created.
 */
import { RunError } from '../config/errors.js';
import type { Engine } from '../engine/connect.js';
import { authorizedKeysValue, generateKeyPair, type KeyPair } from './checks/ssh.js';
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

/**
 * `--only`: the planned checks whose name is one of `only`, or starts with one of them and a space (`auth` selects
 * `auth 401`, `auth query`…; `health` selects `health`, `health degraded`, `health 502`). Skips stay listed.
 */
export function selectChecks(planned: PlannedCheck[], only: string[] | undefined): PlannedCheck[] {
  if (!only?.length) return planned;
  const picked = (name: string) => only.some((o) => name === o || name.startsWith(`${o} `));
  return planned.filter((p) => picked(p.name));
}

/** One image under test: what is known of it so far, and what its checks found. */
interface ImageTest {
  engine: Engine;
  session: TestSession;
  opts: TestOptions;
  log: (line: string) => void;
  /** The stem of its containers' and volumes' names: flavor and arch. */
  base: string;
  /** Becomes the multi-arch tag when only that exists, or what the image says it is (--image). */
  subject: Subject;
  results: Map<string, CheckResult>;
  planned: PlannedCheck[];
  kept: string[];
  screenshot?: string;
}

export async function testImage(engine: Engine, given: Subject, opts: TestOptions): Promise<ImageReport> {
  const t0 = Date.now();
  const session = new TestSession(engine);
  activeSessions.add(session);
  const base = `${given.flavor ?? 'image'}-${given.platform.split('/')[1] ?? given.platform}`;
  const x: ImageTest = {
    engine,
    session,
    opts,
    log: opts.log ?? (() => {}),
    base,
    subject: given,
    results: new Map(),
    planned: [],
    kept: [],
  };
  try {
    await runChecks(x);
  } finally {
    await release(x);
  }
  return report(x, t0);
}

/** image → what it is → the checks it calls for → scenario containers, at the same time as the main one. */
async function runChecks(x: ImageTest): Promise<void> {
  const facts = await inspectImage(x);
  if (!facts || !identify(x, facts)) return;
  if (!(await planImageChecks(x, facts))) return;
  const keys = await generateKeyPair(`idekube-test@${x.session.id}`);
  const shell = pickShell(facts);
  const scenarios = startScenarios(x, {
    session: x.session,
    subject: x.subject,
    facts,
    base: x.base,
    timeoutMs: x.opts.timeoutMs,
    keep: x.opts.keep,
    gpus: x.opts.gpus,
  });
  await testMainContainer(x, facts, keys, shell);
  await scenarios;
}

/** The `image` check: the image is there (pulled if need be), for the platform; the facts it holds. */
async function inspectImage(x: ImageTest): Promise<ImageFacts | undefined> {
  const { engine, opts } = x;
  const probed: { facts?: ImageFacts } = {};
  const r = await measure('image', async () => {
    const pullMs = Math.max(opts.timeoutMs, 300_000);
    let info;
    try {
      info = await ensureImage(engine, x.subject.image, pullMs);
    } catch (e) {
      // buildx bake tags (and pushes) the multi-arch name only: take that, for this platform
      const { alternate } = x.subject;
      if (!alternate) throw e;
      info = await ensureImage(engine, alternate, pullMs, x.subject.platform).catch(() => Promise.reject(e));
      x.subject = { ...x.subject, image: alternate };
    }
    const { image, platform } = x.subject;
    const arch = platform.split('/')[1];
    if (arch && info.Architecture !== arch) fail(`${image} is built for ${info.Architecture}, not ${platform}`);
    probed.facts = await probeImage(engine, image, platform, info, x.session.name(x.base), opts.timeoutMs);
    return `${image} (${info.Architecture}, ${(info.Size / 2 ** 20).toFixed(0)} MiB)`;
  });
  if (r.status !== 'pass') x.results.set('image', r);
  return r.status === 'pass' ? probed.facts : undefined;
}

/** --image without a flavor: the image says what it is; false when it says nothing (not an idekube image). */
function identify(x: ImageTest, facts: ImageFacts): boolean {
  if (x.subject.source !== 'image') return true;
  x.subject = {
    ...x.subject,
    flavor: facts.labels['io.idekube.flavor'] ?? facts.metadata?.flavor ?? null,
    services: servicesFromMetadata(facts.metadata),
    ...commandsFromMetadata(facts.metadata),
  };
  if (facts.metadata) return true;
  x.results.set('metadata', {
    name: 'metadata',
    status: 'fail',
    message: `${x.subject.image} has no /etc/idekube/flavor.json: not an idekube image (or built without services), nothing to test`,
    durationMs: 0,
  });
  return false;
}

/** The checks (skips recorded at once) and the metadata verdict; false when no container needs to run. */
async function planImageChecks(x: ImageTest, facts: ImageFacts): Promise<boolean> {
  x.planned = selectChecks(planChecks(x.subject, facts, { screenshot: Boolean(x.opts.screenshot) }), x.opts.only);
  const meta = await measure('metadata', async () => metadataVerdict(x.subject, facts));
  x.results.set('metadata', meta);
  for (const p of x.planned.filter((q) => q.group === 'skip'))
    x.results.set(p.name, { name: p.name, status: 'skipped', message: p.reason ?? '', durationMs: 0 });
  return x.planned.some((p) => p.group !== 'skip' && p.group !== 'image');
}

/**
 * Containers of their own, at the same time as the main one; at most SCENARIOS at once (each starts every
 * service of the image), the longest first.
 */
function startScenarios(x: ImageTest, env: ScenarioEnv): Promise<unknown> {
  const { results, planned, opts } = x;
  const set = (r: CheckResult) => void results.set(r.name, r);
  const has = (g: string) => planned.some((p) => p.group === g);
  const named = (g: string) => planned.filter((p) => p.group === g).map((p) => p.name);
  const guarded = (names: string[], run: () => Promise<CheckResult[]>) => () =>
    run().then(
      (rs) => rs.forEach(set),
      (e: Error) => failAll(names, e.message).forEach(set),
    );
  const tasks: Array<() => Promise<void>> = [];
  if (has('rootfs')) tasks.push(() => checkRootfs(env, Math.max(opts.timeoutMs, 300_000)).then(setRootfs(results), rootfsFailed(results)));
  if (has('access')) {
    const names = named('access').filter((n) => (ACCESS_CHECKS as readonly string[]).includes(n));
    tasks.push(guarded(names, () => runAccessScenario(env, names)));
  }
  if (has('volume')) {
    const names = named('volume');
    const terminal = env.subject.services.find(
      (s) => s.name === planned.find((p) => p.name === 'uid remap' && p.group === 'volume')?.service,
    );
    tasks.push(
      guarded(names, () => runVolumeScenario(env, { ...(terminal ? { remap: terminal } : {}), key: names.includes('host key kept') })),
    );
  }
  if (has('bad-keys')) tasks.push(() => measure('bad keys', () => checkBadKeys(env)).then(set));
  if (has('any-uid')) tasks.push(() => measure('any uid', () => checkAnyUid(env)).then(set));
  if (has('access-invalid')) tasks.push(() => measure('access invalid', () => checkAccessInvalid(env)).then(set));
  return limited(SCENARIOS, tasks);
}

const setRootfs = (results: Map<string, CheckResult>) => (r: Awaited<ReturnType<typeof checkRootfs>>) => {
  results.set('init container', { name: 'init container', ...r.init });
  results.set('chroot', { name: 'chroot', ...r.chroot });
};

const rootfsFailed = (results: Map<string, CheckResult>) => (e: Error) => {
  results.set('init container', { name: 'init container', status: 'fail', message: e.message, durationMs: 0 });
  results.set('chroot', { name: 'chroot', status: 'skipped', message: 'the init container did not run', durationMs: 0 });
};

/** The main and restart checks, on one container; when it cannot be set up, each of them fails with the reason. */
async function testMainContainer(x: ImageTest, facts: ImageFacts, keys: KeyPair, shell: string | undefined): Promise<void> {
  const mainChecks = x.planned.filter((p) => p.group === 'main');
  const restartNames = x.planned.filter((p) => p.group === 'restart').map((p) => p.name);
  // --only may leave scenarios alone
  if (!mainChecks.length && !restartNames.length) return;
  try {
    const m = await startMain(x, facts, keys, shell);
    await runMainChecks(x, facts, m, mainChecks);
    if (restartNames.length) await restartChecks(x, facts, m);
  } catch (e) {
    const message = (e as Error).message;
    for (const n of [...mainChecks.map((p) => p.name), ...restartNames])
      if (!x.results.has(n)) x.results.set(n, { name: n, status: 'fail', message, durationMs: 0 });
  }
}

/** The main container: empty home volume, a mounted hook, a generated key, another login shell; started and waited for. */
async function startMain(x: ImageTest, facts: ImageFacts, keys: KeyPair, shell: string | undefined): Promise<MainState> {
  const { session, subject, opts, base } = x;
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
  const c = await session.create({
    name: session.name(base, 'main'),
    image: subject.image,
    platform: subject.platform,
    env,
    publish: true,
    mounts,
    privileged,
    gpus: opts.gpus,
  });
  if (facts.hasRuntime) await c.putFiles(HOOKS_DIR, [{ name: HOOK_NAME, text: HOOK_TEXT, mode: 0o644 }]);
  await c.start();
  const who = subject.flavor ?? subject.image;
  x.log(`${who}@${subject.platform}: started ${c.name} on http://127.0.0.1:${c.port}/`);
  const ready = await waitReady(c, routesOf(subject), {
    timeoutMs: opts.timeoutMs,
    ...(facts.hasRuntime ? { programs: inside(c).exec } : {}),
  });
  x.log(`${who}@${subject.platform}: ${describeReadiness(ready, c.port).split('\n')[0]}`);
  return { c, inside: inside(c), ready, keys, shell };
}

const routesOf = (subject: Subject) => subject.services.flatMap((s) => s.routes);

/** The main checks, 3 at once; the screenshot after them (it needs the desktop the vnc check proves). */
async function runMainChecks(x: ImageTest, facts: ImageFacts, m: MainState, mainChecks: PlannedCheck[]): Promise<void> {
  const { results, planned, subject, opts } = x;
  const exited = m.ready.exited;
  const run = (p: PlannedCheck) =>
    exited && p.name !== 'nginx'
      ? measure(p.name, async () => fail(`the container is not running (exit ${exited.code})`))
      : measure(p.name, mainCheck(p, subject, facts, m, opts));
  const shotCheck = mainChecks.find((p) => p.name === 'screenshot');
  const done = await limited(
    3,
    mainChecks.filter((p) => p !== shotCheck).map((p) => () => run(p)),
  );
  for (const r of done) results.set(r.name, r);
  if (shotCheck) {
    // it fails at once without the desktop
    const vnc = [...results.values()].find(
      (r) => planned.find((p) => p.name === r.name)?.service === shotCheck.service && r.name !== 'gpu' && r.name !== 'screenshot',
    );
    results.set(
      'screenshot',
      vnc && vnc.status === 'fail'
        ? {
            name: 'screenshot',
            status: 'fail',
            message: `no desktop to take a picture of: the ${vnc.name} check failed (${vnc.message.split('\n')[0]})`,
            durationMs: 0,
          }
        : await run(shotCheck),
    );
  }
  if (results.get('screenshot')?.status === 'pass') x.screenshot = opts.screenshot;
}

/** The home volume across a restart: a change made before it is still there after it. */
async function restartChecks(x: ImageTest, facts: ImageFacts, m: MainState): Promise<void> {
  const { results, session, opts } = x;
  const { c, ready } = m;
  const homeInit = results.get('home init');
  const before: { changes?: HomeChanges } = {};
  const r0 = await measure('home volume', async () => {
    if (ready.exited) fail('the container is not running');
    if (!facts.user) fail(`the image has no user ${facts.env.USERNAME || 'idekube'}`);
    const changes = await changeHome(m.inside.exec, facts, session.id);
    before.changes = changes;
    await c.restart(10);
    // a container that never served is not waited for again: the volume is what this check is about
    const again = await waitReady(c, routesOf(x.subject), {
      timeoutMs: ready.nginx ? opts.timeoutMs : Math.min(opts.timeoutMs, 10_000),
      programs: inside(c).exec,
    });
    if (again.exited) fail(`after a restart: ${describeReadiness(again, c.port)}`);
    const volume = await checkHomeVolume(m.inside.exec, facts, changes);
    if (ready.nginx && !again.nginx) fail(`${volume}, but after the restart ${describeReadiness(again, c.port)}`);
    return `${volume}${again.nginx ? '; serving again' : ''}`;
  });
  results.set('home volume', r0);
  const { changes } = before;
  results.set(
    'home keeps changes',
    changes
      ? await measure('home keeps changes', async () => {
          if (homeInit && homeInit.status !== 'pass' && !changes.changed) fail('the home was not populated');
          return checkHomeKeeps(m.inside.exec, facts, changes);
        })
      : {
          name: 'home keeps changes',
          status: r0.status === 'fail' ? 'fail' : 'skipped',
          message: `nothing was changed before the restart: ${r0.message}`,
          durationMs: 0,
        },
  );
}

/** Keeps what the session made (--keep) or removes it. */
async function release(x: ImageTest): Promise<void> {
  if (x.opts.keep) x.kept = x.session.resources();
  else {
    const problems = await x.session.cleanup();
    for (const p of problems) x.log(`warning: could not remove ${p}`);
  }
  activeSessions.delete(x.session);
}

function report(x: ImageTest, t0: number): ImageReport {
  const order = ['image', ...x.planned.map((p) => p.name)];
  const checks = [...x.results.values()].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return {
    session: x.session.id,
    flavor: x.subject.flavor,
    image: x.subject.image,
    platform: x.subject.platform,
    passed: checks.every((c) => c.status !== 'fail') && checks.length > 0,
    checks,
    kept: x.kept,
    ...(x.screenshot ? { screenshot: x.screenshot } : {}),
    durationMs: Date.now() - t0,
  };
}

/** Turns an unexpected error into a one-check report (the run goes on with other images). */
export function errorReport(subject: Subject, e: unknown): ImageReport {
  const message = e instanceof RunError ? e.message : (e as Error).message;
  return {
    session: '',
    flavor: subject.flavor,
    image: subject.image,
    platform: subject.platform,
    passed: false,
    checks: [{ name: 'image', status: 'fail', message, durationMs: 0 }],
    kept: [],
    durationMs: 0,
  };
}
