/**
 * The baseline: what the original Makefile flow does, driven on the same engine with the same base images.
 * One flavor after another in a fixed order, one architecture after the other, the whole repository (.git and
 * caches included; node_modules left out, the original had none) as the build context of every build, every
 * Dockerfile declaring its whole ARG block at the top and copying every install script, and every .dockerargs
 * key passed to every build.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { platformsOf } from '../src/config/catalog.js';
import { parentOf } from '../src/config/model.js';
import type { Project } from '../src/config/project.js';
import { requireValues, resolveArgs } from '../src/config/resolve.js';
import { buildImage, listFiles } from '../src/engine/build.js';
import type { Engine } from '../src/engine/connect.js';
import { PACKAGE_ROOT } from '../src/generate/flavor.js';

export interface UpstreamStyleOptions {
  project: Project;
  /** The repository root (build context). */
  repoRoot: string;
  /** Folder holding idekube's generated contexts (for the runtime files the original kept in rootfs/). */
  generatedRoot: string;
  repo: string;
  gitTag: string;
  archs: Array<'amd64' | 'arm64'>;
  /** How RUN steps reach the bench's package cache: the same for both flows. */
  packages?: PackageRoute;
}

/** The network of RUN steps and the proxy build args that lead to the bench's apt cache. */
export interface PackageRoute {
  network: 'host';
  proxyArgs: Record<string, string>;
}

export function upstreamRef(o: UpstreamStyleOptions, flavor: string, arch?: string): string {
  return `${o.repo}:${flavor.replace('/', '-')}-${o.gitTag}${arch ? `-${arch}` : ''}`;
}

/** Every key the catalog's flavors read, with its value: the original passed all of them to every build. */
function allArgs(project: Project): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of project.catalog.order) Object.assign(out, requireValues(id, resolveArgs(project.catalog, project.layered, id)));
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]!]),
  );
}

/** The keys a flavor's own Dockerfile declared at its top (upstream: a per-variant ARG block). */
function flavorArgs(project: Project, id: string): string[] {
  return Object.keys(requireValues(id, resolveArgs(project.catalog, project.layered, id))).sort();
}

export function upstreamDockerfile(o: UpstreamStyleOptions, flavor: string): string {
  const { catalog } = o.project;
  const f = catalog.flavors.get(flavor)!;
  const parent = parentOf(f);
  const artifacts = relative(o.repoRoot, join(o.project.root, 'artifacts'));
  const lib = relative(o.repoRoot, join(PACKAGE_ROOT, 'artifacts/lib'));
  const lines = [
    '# upstream-style baseline (bench/upstream-style.ts): every arg at the top, every script copied',
    'ARG BASE_IMAGE',
    'ARG PARENT_REF',
    parent ? 'FROM ${PARENT_REF} AS system' : 'FROM ${BASE_IMAGE} AS system',
    ...flavorArgs(o.project, flavor).map((k) => `ARG ${k}`),
    'ENV DEBIAN_FRONTEND=noninteractive',
    `COPY ${artifacts}/layers/ /tmp/install-scripts/layers/`,
    `COPY ${lib}/ /tmp/install-scripts/lib/`,
  ];
  for (const l of f.layers.map((n) => catalog.layers.get(n)!)) {
    if (l.run) lines.push(`RUN bash /tmp/install-scripts/layers/${l.name}/${l.run}`);
    for (const c of l.copy) lines.push(`COPY ${artifacts}/layers/${l.name}/${c.src.replace(/^\.?\//, '')} ${c.dest}`);
    for (const [k, v] of Object.entries(l.env)) lines.push(`ENV ${k}="${v}"`);
  }
  const runtime = join(o.generatedRoot, flavor, 'runtime');
  try {
    statSync(runtime);
    lines.push(
      `COPY ${relative(o.repoRoot, runtime)}/ /`,
      'RUN rm -f /etc/nginx/sites-enabled/default && ln -sf /init-container.sh /init-containers.sh',
    );
  } catch {
    /* a child without runtime changes */
  }
  if (!parent) lines.push('EXPOSE 80', 'ENTRYPOINT ["/startup.sh"]');
  return `${lines.join('\n')}\n`;
}

export interface UpstreamResult {
  wallMs: number;
  builds: Array<{ flavor: string; arch: string; ms: number; contextBytes: number }>;
}

export async function upstreamStyleBuild(engine: Engine, o: UpstreamStyleOptions): Promise<UpstreamResult> {
  const dir = join(o.repoRoot, '.idekube/upstream-style');
  mkdirSync(dir, { recursive: true });
  const files = listFiles(o.repoRoot).filter((f) => !f.startsWith('node_modules/'));
  const contextBytes = files.reduce((n, f) => n + statSync(join(o.repoRoot, f)).size, 0);
  const args = allArgs(o.project);
  const t0 = Date.now();
  const builds: UpstreamResult['builds'] = [];
  for (const arch of o.archs) {
    for (const flavor of o.project.catalog.order) {
      const f = o.project.catalog.flavors.get(flavor)!;
      if (!(platformsOf(o.project.catalog, flavor) as string[]).includes(`linux/${arch}`)) continue;
      const dockerfile = join(dir, `${flavor.replace('/', '-')}.Dockerfile`);
      writeFileSync(dockerfile, upstreamDockerfile(o, flavor));
      const parent = parentOf(f);
      const b0 = Date.now();
      await buildImage(engine, {
        contextDir: o.repoRoot,
        files: [...files, relative(o.repoRoot, dockerfile)],
        dockerfile: relative(o.repoRoot, dockerfile),
        platform: `linux/${arch}`,
        // like build_image.sh: the arch tag and the plain tag (children build FROM the plain one)
        tags: [upstreamRef(o, flavor, arch), upstreamRef(o, flavor)],
        buildArgs: { ...args, ...(parent ? { PARENT_REF: upstreamRef(o, parent) } : {}), ...o.packages?.proxyArgs },
        ...(o.packages ? { network: o.packages.network } : {}),
      });
      builds.push({ flavor, arch, ms: Date.now() - b0, contextBytes });
    }
  }
  return { wallMs: Date.now() - t0, builds };
}
