/**
 * `idekube build --test` / `publish --test`: every per-arch image is tested as soon as it is built, before any of
 * its tags is pushed; a failing test stops that image (the driver reports it failed and pushes nothing of it).
 * The flags were checked in cli/build-options.ts (--test takes the docker driver and the local engine).
 */
import { RunError } from '../config/errors.js';
import type { Project } from '../config/project.js';
import type { TargetResult } from '../drivers/events.js';
import type { Engine } from '../engine/connect.js';
import type { PlanImage } from '../plan/types.js';
import { imageLines, subjectLabel } from './report.js';
import { testImage } from './run.js';
import { commandsOfSubject, emulationFactor, servicesFromCatalog } from './subject.js';
import type { Subject } from './types.js';

export interface HookOptions {
  /** Readiness bound for native images, seconds (emulated ones get three times as long); default env IDEKUBE_TEST_TIMEOUT, else 120. */
  timeoutS?: number;
  /** Images tested at once. */
  jobs?: number;
  out: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

export function testHook(project: Project, opts: HookOptions): (image: PlanImage, targets: TargetResult[]) => Promise<void> {
  let engine: Promise<Engine> | undefined;
  let running = 0;
  const queue: Array<() => void> = [];
  const acquire = async () => {
    if (running < (opts.jobs ?? 1)) {
      running++;
      return;
    }
    await new Promise<void>((resolve) => queue.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    queue.shift()?.();
  };
  return async (image, targets) => {
    engine ??= import('../engine/connect.js').then((m) => m.connectEngine());
    const e = await engine;
    const failed: string[] = [];
    for (const t of targets) {
      const subject: Subject = {
        flavor: image.flavor,
        image: t.tag,
        platform: t.platform,
        services: servicesFromCatalog(project.catalog, image.flavor),
        ...commandsOfSubject(project, image.flavor),
        source: 'catalog',
      };
      await acquire();
      try {
        opts.out(`test ${subjectLabel(subject)}: starting ${t.tag}`);
        const timeoutS =
          opts.timeoutS ?? (/^[1-9]\d*$/.test(opts.env.IDEKUBE_TEST_TIMEOUT ?? '') ? Number(opts.env.IDEKUBE_TEST_TIMEOUT) : 120);
        const report = await testImage(e, subject, {
          timeoutMs: timeoutS * 1000 * emulationFactor(t.platform),
          keep: false,
          env: opts.env,
          gpus: false,
          log: (l) => opts.out(`test ${l}`),
        });
        for (const l of imageLines(report)) opts.out(`test ${l}`);
        if (!report.passed)
          failed.push(
            `${subjectLabel(subject)} (${report.checks
              .filter((c) => c.status === 'fail')
              .map((c) => c.name)
              .join(', ')})`,
          );
      } finally {
        release();
      }
    }
    if (failed.length) throw new RunError(`idekube test failed on ${failed.join('; ')}: not pushed`);
  };
}
