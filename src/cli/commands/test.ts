/**
 * `idekube test <flavor…|--all> [--image REF]`: starts each built image, checks what its services declare (see
 * src/verify/), prints one line per check and a JSON report with --json, removes what it created (unless --keep),
 * and exits 1 when any check failed.
 */
import { resolve } from 'node:path';
import { InputError, RunError } from '../../config/errors.js';
import type { Platform } from '../../config/model.js';
import { checkReference } from '../../config/image-ref.js';
import { platformFlag } from '../build-options.js';
import { GPU_MODES, oneOf } from '../choices.js';
import { printJson, type Context } from '../context.js';
import { selectionOf } from '../select.js';

export interface RawTestFlags {
  all?: boolean;
  image?: string;
  platform?: string;
  keep?: boolean;
  screenshot?: string;
  timeout?: string;
  jobs?: string;
  only?: string;
  chromium?: string;
  gpus?: string;
}

export interface TestFlags {
  all: boolean;
  image?: string;
  platforms?: Platform[];
  /** Where `platforms` came from, for messages: `--platform` or `IDEKUBE_PLATFORMS`. */
  platformsVia?: string;
  keep: boolean;
  screenshot?: string;
  timeoutS: number;
  jobs: number;
  /** --only: check names or name prefixes. */
  only?: string[];
  chromium?: string;
  gpus: (typeof GPU_MODES)[number];
}

function wholeNumber(flag: string, v: string | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^[1-9]\d*$/.test(v) || Number(v) > max)
    throw new InputError(`${flag} ${JSON.stringify(v)} is not a whole number from 1 to ${max}`, undefined, `e.g. ${flag} ${dflt}`);
  return Number(v);
}

function checkNames(v: string): string[] {
  const names = v
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!names.length || names.some((n) => !/^[a-z0-9][a-z0-9 /._-]*$/.test(n)))
    throw new InputError(
      `--only ${JSON.stringify(v)} is not a list of check names`,
      undefined,
      'e.g. --only auth,health,terminal (names as idekube test prints them)',
    );
  return names;
}

export function parseTestFlags(raw: RawTestFlags, env: NodeJS.ProcessEnv): TestFlags {
  if (raw.image !== undefined) checkReference(raw.image, '--image', 'give an image reference such as registry/name:tag');
  if (raw.screenshot !== undefined && !/\S/.test(raw.screenshot))
    throw new InputError('--screenshot needs a file name', undefined, 'e.g. --screenshot desktop.png');
  const gpus = oneOf('--gpus', raw.gpus, GPU_MODES, 'auto');
  const { platforms, via } = platformFlag(raw.platform, env);
  return {
    all: Boolean(raw.all),
    ...(raw.image !== undefined ? { image: raw.image } : {}),
    ...(platforms ? { platforms, platformsVia: via } : {}),
    keep: Boolean(raw.keep),
    ...(raw.screenshot !== undefined ? { screenshot: resolve(raw.screenshot) } : {}),
    timeoutS: wholeNumber(
      raw.timeout !== undefined ? '--timeout' : 'IDEKUBE_TEST_TIMEOUT',
      raw.timeout ?? (env.IDEKUBE_TEST_TIMEOUT || undefined),
      120,
      3600,
    ),
    jobs: wholeNumber('--jobs', raw.jobs, 2, 16),
    ...(raw.only !== undefined ? { only: checkNames(raw.only) } : {}),
    ...(raw.chromium !== undefined ? { chromium: raw.chromium } : {}),
    gpus,
  };
}

export async function test(ctx: Context, names: string[], raw: RawTestFlags): Promise<void> {
  const started = Date.now();
  const flags = parseTestFlags(raw, ctx.env);
  const chosen = await chooseSubjects(ctx, names, flags);
  const { subjects } = chosen;
  for (const n of chosen.notes) ctx.io.err(`note: ${n}`);
  if (!subjects.length)
    throw new InputError('nothing to test', undefined, "choose platforms the flavors build with --platform (default: this machine's)");

  const { connectEngine } = await import('../../engine/connect.js');
  const engine = await connectEngine();
  if (chosen.imageOnly && !subjects[0]!.platform) {
    const { ensureImage } = await import('../../verify/image.js');
    const info = await ensureImage(engine, flags.image!, 300_000);
    subjects[0]!.platform = `linux/${info.Architecture}`;
  }
  const gpus = await useGpus(engine, flags);
  const reports = await testAll(ctx, engine, flags, chosen, gpus);
  const { makeReport } = await import('../../verify/report.js');
  const report = makeReport(reports, started);
  // --json: each image's lineup, when lineups are selected (its flavor stays the catalog's id)
  const { lineupOf } = chosen;
  if (ctx.opts.json)
    printJson(
      ctx.io,
      lineupOf.size
        ? {
            ...report,
            images: report.images.map((r, i) => (lineupOf.has(subjects[i]!) ? { ...r, lineup: lineupOf.get(subjects[i]!) } : r)),
          }
        : report,
    );
  if (!report.passed) await failed(report, chosen);
}

/** The subjects of one run, and how to label them. */
interface Chosen {
  subjects: Subject[];
  notes: string[];
  // with lineups: each subject's lineup; with several, labels carry it (`ascend:featured/base@linux/arm64`)
  lineupOf: Map<Subject, string>;
  qualify: boolean;
  /** --image alone: the image is all there is to test (no flavor). */
  imageOnly: boolean;
}

async function chooseSubjects(ctx: Context, names: string[], flags: TestFlags): Promise<Chosen> {
  const imageOnly = flags.image !== undefined && !names.length && !flags.all && !ctx.env.BRANCH;
  if (imageOnly) {
    if (flags.platforms && flags.platforms.length > 1)
      throw new InputError('--image tests one image: give at most one --platform', undefined, 'e.g. --platform linux/arm64');
    return {
      subjects: [{ flavor: null, image: flags.image!, platform: flags.platforms?.[0] ?? '', services: [], source: 'image' }],
      notes: [],
      lineupOf: new Map(),
      qualify: false,
      imageOnly,
    };
  }
  const chosen = await testSubjects(ctx, names, flags);
  if (flags.image !== undefined && chosen.subjects.length > 1)
    throw new InputError('--image tests one image: give the one --platform it is built for', undefined, 'e.g. --platform linux/amd64');
  return { ...chosen, imageOnly };
}

/** --gpus auto: when the engine has the nvidia runtime. */
async function useGpus(engine: Engine, flags: TestFlags): Promise<boolean> {
  if (flags.gpus !== 'auto') return flags.gpus === 'all';
  const { within } = await import('../../verify/wait.js');
  const info = (await within(engine.info(), 15_000, 'no answer').catch(() => ({}))) as { Runtimes?: Record<string, unknown> };
  return Boolean(info.Runtimes && 'nvidia' in info.Runtimes);
}

/** With several lineups, a flavor shows as `<lineup>:<flavor>`. */
const shownAs = <T extends { flavor: string | null }>(chosen: Chosen, x: T, lineup: string | undefined): T =>
  chosen.qualify && lineup && x.flavor ? { ...x, flavor: `${lineup}:${x.flavor}` } : x;

/** Tests the subjects, --jobs at once, printing each image's lines as it ends; a signal removes what the tests made. */
async function testAll(ctx: Context, engine: Engine, flags: TestFlags, chosen: Chosen, gpus: boolean): Promise<ImageReport[]> {
  const { activeSessions, errorReport, testImage } = await import('../../verify/run.js');
  const { imageLines, screenshotPath, subjectLabel } = await import('../../verify/report.js');
  const { emulationFactor } = await import('../../verify/subject.js');
  const tools: Tools = { errorReport, testImage, imageLines, screenshotPath, subjectLabel, emulationFactor };
  const { subjects } = chosen;
  const onSignal = (sig: NodeJS.Signals) => {
    ctx.io.err(`idekube: ${sig}: removing the test containers and volumes`);
    void Promise.all([...activeSessions].map((s) => s.cleanup())).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const desktops = subjects.filter((s) => s.source === 'image' || s.services.some((x) => x.check === 'vnc'));
  const reports: ImageReport[] = new Array(subjects.length);
  let next = 0;
  const worker = async () => {
    while (next < subjects.length) {
      const i = next++;
      reports[i] = await testOne(ctx, engine, flags, chosen, tools, { subject: subjects[i]!, desktops, gpus });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(flags.jobs, subjects.length) }, worker));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return reports;
}

/** The verify/ functions a test run uses, loaded once (verify/ loads only when a test runs). */
interface Tools {
  errorReport: typeof import('../../verify/run.js').errorReport;
  testImage: typeof import('../../verify/run.js').testImage;
  imageLines: typeof import('../../verify/report.js').imageLines;
  screenshotPath: typeof import('../../verify/report.js').screenshotPath;
  subjectLabel: typeof import('../../verify/report.js').subjectLabel;
  emulationFactor: typeof import('../../verify/subject.js').emulationFactor;
}

async function testOne(
  ctx: Context,
  engine: Engine,
  flags: TestFlags,
  chosen: Chosen,
  tools: Tools,
  job: { subject: Subject; desktops: Subject[]; gpus: boolean },
): Promise<ImageReport> {
  const { errorReport, testImage, imageLines, screenshotPath, subjectLabel, emulationFactor } = tools;
  const { subject: s, desktops } = job;
  const log = (l: string) => {
    if (!ctx.opts.quiet) ctx.io.err(l);
  };
  const lineup = chosen.lineupOf.get(s);
  log(`testing ${subjectLabel(shownAs(chosen, s, lineup))}: ${s.image}`);
  const factor = emulationFactor(s.platform);
  const shot =
    flags.screenshot && desktops.includes(s)
      ? screenshotPath(flags.screenshot, subjectLabel(shownAs(chosen, s, lineup)), desktops.length > 1)
      : undefined;
  let report: ImageReport;
  try {
    report = await testImage(engine, s, {
      timeoutMs: flags.timeoutS * 1000 * factor,
      keep: flags.keep,
      ...(flags.only ? { only: flags.only } : {}),
      ...(shot ? { screenshot: shot } : {}),
      ...(flags.chromium ? { chromium: flags.chromium } : {}),
      env: ctx.env,
      gpus: job.gpus,
      log,
    });
  } catch (e) {
    report = errorReport(s, e);
  }
  if (!ctx.opts.json) for (const l of imageLines(shownAs(chosen, report, lineup))) ctx.io.out(l);
  return report;
}

async function failed(report: TestReport, chosen: Chosen): Promise<never> {
  const { subjectLabel } = await import('../../verify/report.js');
  const bad = report.images.map((r, i) => shownAs(chosen, r, chosen.lineupOf.get(chosen.subjects[i]!))).filter((i) => !i.passed);
  const count = bad.reduce((n, i) => n + i.checks.filter((c) => c.status === 'fail').length, 0);
  throw new RunError(
    `${count} check(s) failed on ${bad.length} of ${report.images.length} image(s): ${bad
      .map(
        (i) =>
          `${subjectLabel(i)} (${i.checks
            .filter((c) => c.status === 'fail')
            .map((c) => c.name)
            .join(', ')})`,
      )
      .join('; ')}`,
    {
      fix: 'read the FAIL lines above; rerun with --keep to inspect the containers',
    },
  );
}

type Subject = import('../../verify/types.js').Subject;
type ImageReport = import('../../verify/types.js').ImageReport;
type TestReport = import('../../verify/types.js').TestReport;
type Engine = import('../../engine/connect.js').Engine;

/**
 * What `idekube test` tests for the flavors named (or `--all`): without a lineup, each flavor on the platforms asked
 * for (by default this machine's), its per-arch tag from the project. With lineups (config/selection.ts, as for
 * build and plan): each lineup's flavors, on the platforms asked for within the lineup's (by default this machine's,
 * when the lineup builds it), each image ref from the lineup's own project (its profile's TAG_POSTFIX). A flavor or
 * platform the selected lineups exclude is exit 2 with the reason, before any engine is touched.
 */
export async function testSubjects(
  ctx: Context,
  names: string[],
  flags: TestFlags,
): Promise<{ subjects: Subject[]; notes: string[]; lineupOf: Map<Subject, string>; qualify: boolean }> {
  const { catalogSubjects, nativePlatform } = await import('../../verify/subject.js');
  const { parts, qualify } = await selectionOf(ctx, names, {
    all: flags.all,
    ...(flags.platforms ? { platforms: flags.platforms, platformsVia: flags.platformsVia ?? '--platform' } : {}),
  });
  const entries = parts.reduce((n, p) => n + p.flavors.length, 0);
  if (flags.image !== undefined && entries !== 1) {
    const lineups = parts.filter((p) => p.lineup).map((p) => p.lineup!.name);
    if (lineups.length > 1 && new Set(parts.flatMap((p) => p.flavors)).size === 1)
      throw new InputError(
        `--image tests one image, but ${parts[0]!.flavors[0]} is selected in lineups ${lineups.join(', ')}`,
        undefined,
        `select the one lineup the image belongs to, e.g. --lineup ${lineups[lineups.length - 1]}`,
      );
    throw new InputError(
      `--image tests one image, but ${entries} flavors were selected`,
      undefined,
      'name the one flavor the image is, e.g. idekube test web/base --image REF',
    );
  }
  const subjects: Subject[] = [];
  const notes: string[] = [];
  const lineupOf = new Map<Subject, string>();
  for (const part of parts) {
    if (!part.lineup) {
      const r = catalogSubjects(part.project, part.flavors, flags.platforms, flags.image);
      subjects.push(...r.subjects);
      notes.push(...r.notes);
      continue;
    }
    // part.platforms: --platform within the lineup's, or all the lineup builds; by default only this machine's
    const native = nativePlatform();
    const wanted = flags.platforms ? part.platforms! : part.platforms!.filter((p) => p === native);
    if (!wanted.length) {
      notes.push(
        `lineup ${part.lineup.name}: not tested, it builds ${part.lineup.platforms.join(', ')} only and this machine is ${native} (add --platform ${part.lineup.platforms.join(',')}: emulated)`,
      );
      continue;
    }
    const r = catalogSubjects(part.project, part.flavors, wanted, flags.image);
    for (const s of r.subjects) lineupOf.set(s, part.lineup.name);
    subjects.push(...r.subjects);
    notes.push(...r.notes.map((n) => (qualify ? `${part.lineup!.name}:${n}` : n)));
  }
  return { subjects, notes, lineupOf, qualify };
}
