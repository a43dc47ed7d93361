/** What a runtime scenario (a container of its own, started with particular settings) needs to know. */
import type { ContainerSpec, TestContainer, TestSession } from '../container.js';
import type { ImageFacts, Subject, VerifyService } from '../types.js';

export interface ScenarioEnv {
  session: TestSession;
  subject: Subject;
  facts: ImageFacts;
  /** Names the containers: flavor + arch. */
  base: string;
  /** Readiness bound. */
  timeoutMs: number;
  keep: boolean;
  /** Containers to ask for GPUs. */
  gpus: boolean;
}

/** Every route of the services a scenario expects to come up (ssh and dind need root: left out where asked). */
export function routesOf(services: VerifyService[], without: string[] = []) {
  return services.filter((s) => !without.includes(s.check)).flatMap((s) => s.routes);
}

/** dind needs a privileged container: scenarios that expect every service up give it one, as the main container has. */
export function needsPrivilege(services: VerifyService[]): boolean {
  return services.some((s) => s.check === 'dind');
}

/** What a scenario chooses about its container; the image, platform, GPUs and name stem are the run's. */
export type ScenarioSpec = Omit<ContainerSpec, 'name' | 'image' | 'platform' | 'gpus' | 'labels'>;

/** A container of the subject's image for a scenario, named `<base>-<suffix…>`, with GPUs when the run asks. */
export function scenarioContainer(env: ScenarioEnv, suffix: string[], spec: ScenarioSpec): Promise<TestContainer> {
  const { session, subject } = env;
  return session.create({
    name: session.name(env.base, ...suffix),
    image: subject.image,
    platform: subject.platform,
    gpus: env.gpus,
    ...spec,
  });
}
