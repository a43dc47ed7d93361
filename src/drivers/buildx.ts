/**
 * The buildx driver: the plan as a bake file (JSON), run with `docker buildx bake` through execa. Children get
 * their parent through `contexts` (target:<parent>), so bake builds them in one graph from the parent as just
 * built. Digests come back through --metadata-file. The bake file and argv are pure functions of the plan.
 */
import { relative } from 'node:path';
import { EXTRA_CA_SECRET } from '../generate/extra-ca.js';
import { PARENT_ARG } from '../generate/flavor.js';
import { RunError } from '../config/errors.js';
import { familiarName, sharedCacheRef, slug } from '../config/image-ref.js';
import type { Plan, PlanImage } from '../plan/types.js';

export interface BakeOptions {
  builder?: string;
  /** Add SBOM and max-mode provenance attestations. */
  attest?: boolean;
  /** The SBOM scanner image (buildx's default, docker/buildkit-syft-scanner, when unset). */
  sbomGenerator?: string;
  load?: boolean;
  /** Run every step again (`--no-cache`). */
  noCache?: boolean;
  progress?: 'auto' | 'plain' | 'tty' | 'rawjson' | 'quiet';
  bakeFile: string;
  metadataFile: string;
}

export interface BakeFile {
  group: Record<string, { targets: string[] }>;
  target: Record<string, Record<string, unknown>>;
}

/**
 * One bake target per image (all its platforms in one build, pushed as one list), or with `--arch-only` one per
 * image and platform, each pushed under its per-arch tag only (`idekube manifest` joins them later).
 */
export function bakeFile(plan: Plan, opts: Pick<BakeOptions, 'attest' | 'sbomGenerator' | 'load'>): BakeFile {
  const target: BakeFile['target'] = {};
  const perArch = plan.push && plan.archOnly;
  // maps, not scans: a catalog of thousands of flavors stays linear
  const targetById = new Map(plan.targets.map((t) => [t.id, t]));
  // a parent is found through its target (with several lineups in one plan a flavor has several images)
  const imageOfTarget = new Map(plan.images.flatMap((i) => i.targets.map((id) => [id, i] as const)));
  for (const image of plan.images) {
    const targets = image.targets.map((id) => targetById.get(id)!);
    const parentTarget = targets[0]!.dependsOn[0];
    const parent = parentTarget ? imageOfTarget.get(parentTarget) : undefined;
    const units = perArch ? targets.map((t) => [t]) : [targets];
    for (const unit of units) {
      const first = unit[0]!;
      const { [PARENT_ARG]: _parentArg, ...args } = first.buildArgs;
      const t: Record<string, unknown> = {
        context: relative(plan.root, first.contextDir) || '.',
        dockerfile: 'Dockerfile',
        platforms: unit.map((u) => u.platform),
        tags: perArch ? [first.tag] : [image.ref, ...image.aliases],
        args: sortKeys(args),
        labels: sortKeys(first.labels),
      };
      // FROM ${IDEKUBE_PARENT} defaults to the parent's tag. The frontend looks a FROM up among named contexts by
      // its familiar name (no docker.io/, library/ or :latest), so the key must be that form or the child pulls
      // the parent from the registry instead of taking the target just built.
      if (parent) t.contexts = { [familiarName(parent.ref)]: `target:${imageBakeName(parent, perArch ? first.arch : undefined)}` };
      if (plan.cache === 'registry') {
        // the plan's cache refs are per arch; bake builds all platforms of a target in one go, into one cache
        const ref = perArch ? first.cacheFrom[0]! : sharedCacheRef(first.cacheFrom[0]!);
        t['cache-from'] = [`type=registry,ref=${ref}`];
        if (plan.push) t['cache-to'] = [`type=registry,ref=${ref},mode=max,ignore-error=true`];
      }
      if (plan.network !== 'default') t.network = plan.network;
      // a secret: what RUN steps read, never part of the image or a cache key (generate/extra-ca.ts)
      if (plan.extraCaCerts) t.secret = [`id=${EXTRA_CA_SECRET},src=${plan.extraCaCerts.path}`];
      if (opts.attest) t.attest = ['type=provenance,mode=max', `type=sbom${opts.sbomGenerator ? `,generator=${opts.sbomGenerator}` : ''}`];
      t.output = plan.push ? ['type=image,push=true'] : opts.load ? ['type=docker'] : ['type=cacheonly'];
      const name = imageBakeName(image, perArch ? first.arch : undefined);
      // `featured-base-ascend` of lineup ascend against a flavor featured/base-ascend: refuse rather than overwrite
      if (target[name])
        throw new RunError(`two images of the plan would both be bake target ${name}`, {
          fix: "rename the flavor folder that ends in a lineup's name",
        });
      target[name] = escapeTemplates(t);
    }
  }
  // parents are in the plan because children build from them: build (and push) them too
  return { group: { default: { targets: Object.keys(target) } }, target };
}

/**
 * The bake target of an image, or of one of its platforms (`web-base-arm64`) when targets are per arch; with
 * several lineups in one plan the lineup follows the flavor, as in upstream's bake file (`featured-base-ascend`).
 */
export function bakeTargetName(flavor: string, arch?: string, lineup?: string): string {
  return `${slug(flavor)}${lineup ? `-${lineup}` : ''}${arch ? `-${arch}` : ''}`;
}

/** bakeTargetName of a plan image: lineup-qualified only when the plan qualifies it. */
export function imageBakeName(image: PlanImage, arch?: string): string {
  return bakeTargetName(image.flavor, arch, image.id ? image.lineup : undefined);
}

/**
 * Strings in a JSON bake file are HCL templates: `${X}` and `%{…}` would be evaluated (`There is no variable named
 * "X"`). Doubling the sigil makes them literal, as buildx itself does when it writes JSON.
 */
function escapeTemplates<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/([$%])\{/g, '$1$1{') as T;
  if (Array.isArray(value)) return value.map(escapeTemplates) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeTemplates(k), escapeTemplates(v)])) as T;
  return value;
}

export function bakeArgv(plan: Plan, opts: BakeOptions): string[] {
  const argv = ['buildx', 'bake', '--file', opts.bakeFile, '--metadata-file', opts.metadataFile];
  if (opts.builder) argv.push('--builder', opts.builder);
  if (opts.progress) argv.push('--progress', opts.progress);
  if (opts.noCache) argv.push('--no-cache');
  // bake asks for the entitlement before it lets a target use the host's network
  if (plan.network === 'host') argv.push('--allow', 'network.host');
  if (plan.push) argv.push('--push');
  else if (opts.load) argv.push('--load');
  argv.push('default');
  return argv;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]!]),
  );
}
