/** What to test: catalog flavors × platforms (their per-arch tags), or an image given by reference. */
import { arch as hostArch } from 'node:os';
import { platformsOf, servicesOf } from '../config/catalog.js';
import type { Catalog, Platform, ServiceCheck } from '../config/model.js';
import type { Project } from '../config/project.js';
import { archOf, imageRef } from '../config/tags.js';
import type { ImageFacts, Subject, VerifyService } from './types.js';

const KINDS: readonly ServiceCheck[] = ['http', 'coder', 'jupyter', 'vnc', 'ssh', 'dind', 'none'];

export function servicesFromCatalog(catalog: Catalog, id: string): VerifyService[] {
  return servicesOf(catalog, id).map((s) => ({ name: s.name, check: s.check ?? 'http', routes: s.routes, programs: Object.keys(s.programs) }));
}

/** Services as /etc/idekube/flavor.json lists them (an unknown check kind counts as http). */
export function servicesFromMetadata(meta: ImageFacts['metadata']): VerifyService[] {
  return (meta?.services ?? []).map((s) => ({
    name: s.name,
    check: (KINDS as readonly string[]).includes(s.check ?? '') ? (s.check as ServiceCheck) : 'http',
    routes: s.routes ?? [],
    programs: s.programs ?? [],
  }));
}

/** The platform this machine runs without emulation. */
export function nativePlatform(arch: string = hostArch()): Platform {
  return arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
}

/**
 * One subject per flavor and platform. Platforms: the requested ones the flavor builds, by default the native one
 * (emulated platforms are slow: ask for them with --platform).
 */
export function catalogSubjects(project: Project, ids: string[], requested: Platform[] | undefined, image?: string): { subjects: Subject[]; notes: string[] } {
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
        platform,
        services: servicesFromCatalog(project.catalog, id),
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
