/**
 * The buildx driver: the plan as a bake file (JSON), run with `docker buildx bake` through execa. Children get
 * their parent through `contexts` (target:<parent>), so bake builds them in one graph from the parent as just
 * built. Digests come back through --metadata-file. The bake file and argv are pure functions of the plan.
 */
import { relative } from 'node:path';
import { PARENT_ARG } from '../generate/flavor.js';
import type { Plan } from '../plan/types.js';

export interface BakeOptions {
  builder?: string;
  /** Add SBOM and max-mode provenance attestations. */
  attest?: boolean;
  load?: boolean;
  /** Run every step again (`--no-cache`). */
  noCache?: boolean;
  progress?: 'auto' | 'plain' | 'tty' | 'rawjson' | 'quiet';
  bakeFile: string;
  metadataFile: string;
}

export function targetName(flavor: string): string {
  return flavor.replace('/', '-');
}

export interface BakeFile {
  group: Record<string, { targets: string[] }>;
  target: Record<string, Record<string, unknown>>;
}

export function bakeFile(plan: Plan, opts: Pick<BakeOptions, 'attest' | 'load'>): BakeFile {
  const target: BakeFile['target'] = {};
  for (const image of plan.images) {
    const targets = plan.targets.filter((t) => image.targets.includes(t.id));
    const first = targets[0]!;
    const { [PARENT_ARG]: _parentArg, ...args } = first.buildArgs;
    const parent = image.parent ? plan.images.find((i) => i.flavor === image.parent) : undefined;
    const t: Record<string, unknown> = {
      context: relative(plan.root, first.contextDir) || '.',
      dockerfile: 'Dockerfile',
      platforms: image.platforms,
      tags: [image.ref, ...image.aliases],
      args: sortKeys(args),
      labels: sortKeys(first.labels),
    };
    // FROM ${IDEKUBE_PARENT} defaults to the parent's tag; map that name to the parent target
    if (parent) t.contexts = { [parent.ref]: `target:${targetName(parent.flavor)}` };
    if (plan.cache === 'registry') {
      t['cache-from'] = [`type=registry,ref=${cacheRef(first.cacheFrom[0]!)}`];
      if (plan.push) t['cache-to'] = [`type=registry,ref=${cacheRef(first.cacheFrom[0]!)},mode=max,ignore-error=true`];
    }
    if (plan.network !== 'default') t.network = plan.network;
    if (opts.attest) t.attest = ['type=provenance,mode=max', 'type=sbom'];
    t.output = plan.push ? ['type=image,push=true'] : opts.load ? ['type=docker'] : ['type=cacheonly'];
    target[targetName(image.flavor)] = t;
  }
  // parents are in the plan because children build from them: build (and push) them too
  return { group: { default: { targets: plan.images.map((i) => targetName(i.flavor)) } }, target };
}

/** Multi-platform cache refs are per arch in the plan; bake builds all platforms of a target in one go. */
function cacheRef(perArch: string): string {
  return perArch.replace(/-(amd64|arm64)$/, '');
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
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}
