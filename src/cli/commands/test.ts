/**
 * `idekube test <flavor…|--all> [--image REF]`: starts each built image, checks what its services declare (see
 * src/verify/), prints one line per check and a JSON report with --json, removes what it created (unless --keep),
 * and exits 1 when any check failed.
 */
import { resolve } from 'node:path';
import { InputError, RunError } from '../../config/errors.js';
import type { Platform } from '../../config/model.js';
import { selectFlavors } from '../../config/project.js';
import { checkReference } from '../../config/tags.js';
import { parsePlatforms } from '../../plan/make-plan.js';
import { printJson, type Context } from '../context.js';

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
  keep: boolean;
  screenshot?: string;
  timeoutS: number;
  jobs: number;
  /** --only: check names or name prefixes. */
  only?: string[];
  chromium?: string;
  gpus: 'auto' | 'all' | 'none';
}

function wholeNumber(flag: string, v: string | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^[1-9]\d*$/.test(v) || Number(v) > max) throw new InputError(`${flag} ${JSON.stringify(v)} is not a whole number from 1 to ${max}`, undefined, `e.g. ${flag} ${dflt}`);
  return Number(v);
}

function checkNames(v: string): string[] {
  const names = v.split(',').map((n) => n.trim()).filter(Boolean);
  if (!names.length || names.some((n) => !/^[a-z0-9][a-z0-9 /._-]*$/.test(n))) throw new InputError(`--only ${JSON.stringify(v)} is not a list of check names`, undefined, 'e.g. --only auth,health,terminal (names as idekube test prints them)');
  return names;
}

export function parseTestFlags(raw: RawTestFlags, env: NodeJS.ProcessEnv): TestFlags {
  if (raw.image !== undefined) checkReference(raw.image, '--image', 'give an image reference such as registry/name:tag');
  if (raw.screenshot !== undefined && !/\S/.test(raw.screenshot)) throw new InputError('--screenshot needs a file name', undefined, 'e.g. --screenshot desktop.png');
  const gpus = raw.gpus ?? 'auto';
  if (!['auto', 'all', 'none'].includes(gpus)) throw new InputError(`--gpus ${JSON.stringify(gpus)} is not allowed`, undefined, 'use one of: auto, all, none');
  const platforms = parsePlatforms(raw.platform ?? (env.IDEKUBE_PLATFORMS || undefined), raw.platform !== undefined ? '--platform' : 'IDEKUBE_PLATFORMS');
  return {
    all: Boolean(raw.all),
    ...(raw.image !== undefined ? { image: raw.image } : {}),
    ...(platforms ? { platforms } : {}),
    keep: Boolean(raw.keep),
    ...(raw.screenshot !== undefined ? { screenshot: resolve(raw.screenshot) } : {}),
    timeoutS: wholeNumber(raw.timeout !== undefined ? '--timeout' : 'IDEKUBE_TEST_TIMEOUT', raw.timeout ?? (env.IDEKUBE_TEST_TIMEOUT || undefined), 120, 3600),
    jobs: wholeNumber('--jobs', raw.jobs, 2, 16),
    ...(raw.only !== undefined ? { only: checkNames(raw.only) } : {}),
    ...(raw.chromium !== undefined ? { chromium: raw.chromium } : {}),
    gpus: gpus as TestFlags['gpus'],
  };
}

export async function test(ctx: Context, names: string[], raw: RawTestFlags): Promise<void> {
  const started = Date.now();
  const flags = parseTestFlags(raw, ctx.env);
  const { catalogSubjects, emulationFactor } = await import('../../verify/subject.js');
  type Subject = import('../../verify/types.js').Subject;
  let subjects: Subject[];
  let notes: string[] = [];
  const imageOnly = flags.image !== undefined && !names.length && !flags.all && !ctx.env.BRANCH;
  if (imageOnly) {
    if (flags.platforms && flags.platforms.length > 1) throw new InputError('--image tests one image: give at most one --platform', undefined, 'e.g. --platform linux/arm64');
    subjects = [{ flavor: null, image: flags.image!, platform: flags.platforms?.[0] ?? '', services: [], source: 'image' }];
  } else {
    const project = await ctx.project();
    const ids = selectFlavors(project, names, { all: flags.all, env: ctx.env });
    if (flags.image !== undefined && ids.length !== 1) throw new InputError(`--image tests one image, but ${ids.length} flavors were selected`, undefined, 'name the one flavor the image is, e.g. idekube test web/base --image REF');
    ({ subjects, notes } = catalogSubjects(project, ids, flags.platforms, flags.image));
    if (flags.image !== undefined && subjects.length > 1) throw new InputError('--image tests one image: give the one --platform it is built for', undefined, 'e.g. --platform linux/amd64');
  }
  for (const n of notes) ctx.io.err(`note: ${n}`);
  if (!subjects.length) throw new InputError('nothing to test', undefined, 'choose platforms the flavors build with --platform (default: this machine\'s)');

  const { connectEngine } = await import('../../engine/connect.js');
  const engine = await connectEngine();
  if (imageOnly && !subjects[0]!.platform) {
    const { ensureImage } = await import('../../verify/image.js');
    const info = await ensureImage(engine, flags.image!, 300_000);
    subjects[0]!.platform = `linux/${info.Architecture}`;
  }
  let gpus = flags.gpus === 'all';
  if (flags.gpus === 'auto') {
    const { within } = await import('../../verify/wait.js');
    const info = (await within(engine.info(), 15_000, 'no answer').catch(() => ({}))) as { Runtimes?: Record<string, unknown> };
    gpus = Boolean(info.Runtimes && 'nvidia' in info.Runtimes);
  }

  const { activeSessions, errorReport, testImage } = await import('../../verify/run.js');
  const { imageLines, makeReport, screenshotPath, subjectLabel } = await import('../../verify/report.js');
  const onSignal = (sig: NodeJS.Signals) => {
    ctx.io.err(`idekube: ${sig}: removing the test containers and volumes`);
    void Promise.all([...activeSessions].map((s) => s.cleanup())).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const desktops = subjects.filter((s) => s.source === 'image' || s.services.some((x) => x.check === 'vnc'));
  const log = (l: string) => {
    if (!ctx.opts.quiet) ctx.io.err(l);
  };
  const reports: Awaited<ReturnType<typeof testImage>>[] = new Array(subjects.length);
  let next = 0;
  const worker = async () => {
    while (next < subjects.length) {
      const i = next++;
      const s = subjects[i]!;
      log(`testing ${subjectLabel(s)}: ${s.image}`);
      const factor = emulationFactor(s.platform);
      const shot = flags.screenshot && desktops.includes(s) ? screenshotPath(flags.screenshot, subjectLabel(s), desktops.length > 1) : undefined;
      try {
        reports[i] = await testImage(engine, s, {
          timeoutMs: flags.timeoutS * 1000 * factor,
          keep: flags.keep,
          ...(flags.only ? { only: flags.only } : {}),
          ...(shot ? { screenshot: shot } : {}),
          ...(flags.chromium ? { chromium: flags.chromium } : {}),
          env: ctx.env,
          gpus,
          log,
        });
      } catch (e) {
        reports[i] = errorReport(s, e);
      }
      if (!ctx.opts.json) for (const l of imageLines(reports[i]!)) ctx.io.out(l);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(flags.jobs, subjects.length) }, worker));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const report = makeReport(reports, started);
  if (ctx.opts.json) printJson(ctx.io, report);
  if (!report.passed) {
    const bad = report.images.filter((i) => !i.passed);
    const count = bad.reduce((n, i) => n + i.checks.filter((c) => c.status === 'fail').length, 0);
    throw new RunError(`${count} check(s) failed on ${bad.length} of ${report.images.length} image(s): ${bad.map((i) => `${subjectLabel(i)} (${i.checks.filter((c) => c.status === 'fail').map((c) => c.name).join(', ')})`).join('; ')}`, {
      fix: 'read the FAIL lines above; rerun with --keep to inspect the containers',
    });
  }
}
