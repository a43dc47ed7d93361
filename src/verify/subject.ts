/** What to test: catalog flavors × platforms (their per-arch tags), or an image given by reference. */
import { platformsOf, servicesOf } from '../config/catalog.js';
import { commandsOf } from '../config/commands.js';
import type { Catalog, LayerCommand, Platform, ServiceCheck } from '../config/model.js';
import type { Project } from '../config/project.js';
import { HOST_ARCH, archOf, platformOf, type Arch } from '../config/platform.js';
import { imageRef } from '../config/tags.js';
import type { ImageFacts, Subject, VerifyService } from './types.js';

const KINDS: readonly ServiceCheck[] = ['http', 'coder', 'jupyter', 'vnc', 'ssh', 'dind', 'terminal', 'none'];

/**
 * Which service is main, by the generator's rule: the LAST one declared `main: true`, none → the first with a route
 * (-1: no service has a route). The same rule as src/generate/landing.ts's mainService, copied rather than imported
 * so that what the tests expect does not come from the code under test.
 */
export function mainIndex(services: ReadonlyArray<{ main?: boolean; routes: readonly unknown[] }>): number {
  // a service without a route cannot be probed, so the generator never makes it the main one
  for (let i = services.length - 1; i >= 0; i--) if (services[i]!.main === true && services[i]!.routes.length) return i;
  return services.findIndex((s) => s.routes.length > 0);
}

/** The subject's main service (undefined when no service has a route). */
export function mainOf(services: VerifyService[]): VerifyService | undefined {
  const i = mainIndex(services);
  return i >= 0 ? services[i] : undefined;
}

/** `main: true` on the one service at `index`, on no other. */
function markMain(services: VerifyService[], index: number): VerifyService[] {
  return services.map((s, i) => {
    const { main: _drop, ...rest } = s;
    return i === index ? { ...rest, main: true } : rest;
  });
}

export function servicesFromCatalog(catalog: Catalog, id: string): VerifyService[] {
  const declared = servicesOf(catalog, id);
  const services = declared.map((s) => ({ name: s.name, check: s.check ?? 'http', routes: s.routes, programs: Object.keys(s.programs) }));
  return markMain(services, mainIndex(declared));
}

/**
 * Services as /etc/idekube/flavor.json lists them (an unknown check kind counts as http). The main one: the
 * top-level `main` when it names a service, else per-service `main: true` (the last wins), else the first with a route.
 */
export function servicesFromMetadata(meta: ImageFacts['metadata']): VerifyService[] {
  const listed = meta?.services ?? [];
  const services = listed.map((s) => ({
    name: s.name,
    check: (KINDS as readonly string[]).includes(s.check ?? '') ? (s.check as ServiceCheck) : 'http',
    routes: s.routes ?? [],
    programs: s.programs ?? [],
  }));
  const named = typeof meta?.main === 'string' ? services.findIndex((s) => s.name === meta.main) : -1;
  return markMain(services, named >= 0 ? named : mainIndex(listed.map((s, i) => ({ main: s.main, routes: services[i]!.routes }))));
}

/** The catalog's commands of a flavor, as a Subject field (absent when none). */
export function commandsOfSubject(project: Project, id: string): { commands?: LayerCommand[] } {
  return commandsField(commandsOf(project, id));
}

function commandsField(commands: LayerCommand[]): { commands?: LayerCommand[] } {
  return commands.length ? { commands } : {};
}

/** Commands as /etc/idekube/flavor.json lists them (entries without a name or a command line are dropped). */
export function commandsFromMetadata(meta: ImageFacts['metadata']): { commands?: LayerCommand[] } {
  const listed = (meta?.commands ?? []).filter((c) => typeof c?.name === 'string' && typeof c.run === 'string' && c.run.trim());
  return commandsField(
    listed.map((c) => ({
      name: c.name,
      layer: String(c.layer ?? '?'),
      run: c.run,
      ...(typeof c.expect === 'string' ? { expect: c.expect } : {}),
    })),
  );
}

/** The platform this machine runs without emulation (amd64 on a host that is neither: tests then run emulated). */
export function nativePlatform(host: Arch | null = HOST_ARCH ?? null): Platform {
  return platformOf(host ?? 'amd64');
}

/**
 * One subject per flavor and platform. Platforms: the requested ones the flavor builds, by default the native one
 * (emulated platforms are slow: ask for them with --platform).
 */
export function catalogSubjects(
  project: Project,
  ids: string[],
  requested: Platform[] | undefined,
  image?: string,
): { subjects: Subject[]; notes: string[] } {
  const subjects: Subject[] = [];
  const notes: string[] = [];
  const wanted = requested ?? [nativePlatform()];
  for (const id of ids) {
    const supported = platformsOf(project.catalog, id);
    const platforms = wanted.filter((p) => supported.includes(p));
    if (!platforms.length) {
      notes.push(`${id}: not tested, it builds ${supported.join(', ')} and ${wanted.join(', ')} was asked for`);
      continue;
    }
    for (const platform of platforms) {
      subjects.push({
        flavor: id,
        image: image ?? imageRef(id, project.naming, { arch: archOf(platform) }),
        ...(image ? {} : { alternate: imageRef(id, project.naming) }),
        platform,
        services: servicesFromCatalog(project.catalog, id),
        ...commandsOfSubject(project, id),
        source: 'catalog',
      });
    }
  }
  return { subjects, notes };
}

/** Emulated platforms start slower: their waits are this many times longer. */
export function emulationFactor(platform: string): number {
  return platform === nativePlatform() ? 1 : 3;
}
