/**
 * The buildx builder a bake would use: what `docker buildx inspect` says about it (driver, nodes, platforms), whether
 * the engine behind it uses the containerd image store, and a pure check of a plan's needs against those facts, so
 * that idekube can say what to change before it starts anything. Rules follow buildx v0.29 build/opt.go.
 */
import semver from 'semver';
import type { NetworkMode, Plan } from '../plan/types.js';
import { firstLine, MIN_BUILDX_NETWORK, tooOldWhy } from './buildx-probe.js';

export interface BuilderNode {
  name: string;
  endpoint?: string;
  /** running, inactive, stopped… (absent when the node could not be reached: see error). */
  status?: string;
  error?: string;
  /** As listed, without the `*` that marks platforms the user set. */
  platforms: string[];
}

export interface InspectedBuilder {
  name: string;
  /** docker, docker-container, kubernetes or remote. */
  driver: string;
  /** Set when buildx could not load the builder's nodes. */
  error?: string;
  nodes: BuilderNode[];
  /** Union over the nodes, first seen first. */
  platforms: string[];
}

export interface BuilderFacts {
  /** For messages. */
  name?: string;
  /** buildx's own semver (the CLI plugin's, not BuildKit's). */
  version: string;
  driver: string;
  /** Empty when the builder lists none (a docker-container builder not booted yet): then any platform may do. */
  platforms: string[];
  /** The engine uses the containerd image store: for the docker driver the builder's own engine, else the one --load writes into. */
  containerdStore?: boolean;
}

export interface PlanNeeds {
  /** Platforms of each image (one bake target each): the widest decides the one-image rules. */
  platformsPerImage: string[][];
  /** Every platform the plan builds. */
  platforms: string[];
  push: boolean;
  load: boolean;
  /** A `cache-to` of type registry. */
  registryCacheExport: boolean;
  attest: boolean;
  network: NetworkMode;
}

// ---- `docker buildx inspect` ----

/** A `Key:   value` line at the left edge; indented lines (labels, GC rules, devices) are not the builder's or node's own. */
const FIELD = /^([A-Z][A-Za-z ]*?):\s+(\S.*)$/;

/** The builder in `docker buildx inspect`'s text (buildx v0.29 commands/inspect.go), or undefined when it is not that. */
export function parseInspect(text: string): InspectedBuilder | undefined {
  const b: Omit<InspectedBuilder, 'platforms'> = { name: '', driver: '', nodes: [] };
  let inNodes = false;
  let node: BuilderNode | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === 'Nodes:') inNodes = true;
    const m = FIELD.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (!inNodes) builderField(b, key, value);
    else if (key === 'Name') b.nodes.push((node = { name: value, platforms: [] }));
    else if (node) nodeField(node, key, value);
  }
  if (!b.name || !b.driver) return undefined;
  return { ...b, platforms: union(b.nodes.map((n) => n.platforms)) };
}

function builderField(b: Omit<InspectedBuilder, 'platforms'>, key: string, value: string): void {
  if (key === 'Name') b.name = value;
  else if (key === 'Driver') b.driver = value;
  else if (key === 'Error') b.error = value;
}

function nodeField(n: BuilderNode, key: string, value: string): void {
  if (key === 'Endpoint') n.endpoint = value;
  else if (key === 'Status') n.status = value;
  else if (key === 'Error') n.error = value;
  else if (key === 'Platforms') n.platforms = value.split(',').map(normalizePlatform).filter(Boolean);
}

/** `linux/arm64*` → linux/arm64; BuildKit's own spellings for the default variants (arm64/v8 → arm64, arm → arm/v7). */
export function normalizePlatform(p: string): string {
  const s = p.trim().replace(/\*$/, '').toLowerCase();
  if (s === 'linux/arm64/v8') return 'linux/arm64';
  if (s === 'linux/arm') return 'linux/arm/v7';
  return s;
}

function union(lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

/** `docker info --format '{{json .DriverStatus}}'`: has ["driver-type","io.containerd.snapshotter.v1"] with the containerd store. */
export function parseDriverStatus(json: string): boolean | undefined {
  try {
    const pairs = JSON.parse(json) as unknown;
    if (!Array.isArray(pairs)) return undefined;
    return pairs.some((p) => Array.isArray(p) && p[0] === 'driver-type' && p[1] === 'io.containerd.snapshotter.v1');
  } catch {
    return undefined;
  }
}

// ---- asking the docker CLI ----

const TIMEOUT_MS = 15_000;

async function docker(argv: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string } | { error: string }> {
  const { execa } = await import('execa');
  try {
    const r = await execa('docker', argv, { timeout: TIMEOUT_MS, reject: false, env });
    if (r.exitCode === 0) return { stdout: r.stdout };
    return { error: r.timedOut ? `no answer within ${TIMEOUT_MS / 1000} s` : firstLine(r.stderr) || `exit code ${r.exitCode}` };
  } catch (e) {
    return { error: firstLine((e as Error).message) };
  }
}

/** `docker buildx inspect [--builder NAME]`, parsed; `why` when it fails or prints something else. */
export async function inspectBuilder(
  builder: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<InspectedBuilder | { why: string }> {
  const argv = ['buildx', 'inspect', ...(builder ? ['--builder', builder] : [])];
  const r = await docker(argv, env);
  const which = builder ? `builder ${builder}` : 'the current buildx builder';
  if ('error' in r)
    return { why: `cannot inspect ${which} (${r.error}): see docker buildx ls, pick one with --builder, or use --driver docker` };
  return (
    parseInspect(r.stdout) ?? {
      why: `docker ${argv.join(' ')} printed no builder name and driver: see docker buildx ls, or use --driver docker`,
    }
  );
}

/** Does the engine of this docker context (unset: the current one) use the containerd image store? undefined: could not ask. */
export async function engineUsesContainerdStore(
  context: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean | undefined> {
  const r = await docker([...(context ? ['--context', context] : []), 'info', '--format', '{{json .DriverStatus}}'], env);
  return 'stdout' in r ? parseDriverStatus(r.stdout) : undefined;
}

/**
 * The facts builderProblems needs, or why the builder cannot be used at all. For the docker driver the builder IS the
 * engine of the docker context named by its node's endpoint; for the others the store matters only to --load, which
 * writes into the current context's engine.
 */
export async function builderFacts(
  version: string,
  builder: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BuilderFacts | { why: string }> {
  const b = await inspectBuilder(builder, env);
  if ('why' in b) return b;
  const down = unreachable(b);
  if (down) return { why: down };
  const context = b.driver === 'docker' ? b.nodes[0]?.endpoint : undefined;
  const store = await engineUsesContainerdStore(context && !context.includes('://') ? context : undefined, env);
  return { name: b.name, version, driver: b.driver, platforms: b.platforms, ...(store === undefined ? {} : { containerdStore: store }) };
}

/** A builder whose nodes all failed to answer cannot build anything. */
function unreachable(b: InspectedBuilder): string | undefined {
  const error = b.error ?? (b.nodes.length > 0 && b.nodes.every((n) => n.error) ? b.nodes[0]!.error : undefined);
  if (!error) return undefined;
  return `builder ${b.name} (driver ${b.driver}) does not answer (${error}): start it, pick another with --builder, or use --driver docker`;
}

// ---- the plan against the builder (pure) ----

/** What idekube's bake file (buildx.ts bakeFile/bakeArgv) asks of the builder for this plan. */
export function needsOfPlan(plan: Plan, opts: { attest?: boolean; load?: boolean } = {}): PlanNeeds {
  // --arch-only pushes: a bake target per image and platform (buildx.ts bakeFile)
  const platformsPerImage =
    plan.push && plan.archOnly ? plan.targets.map((t) => [t.platform as string]) : plan.images.map((i) => [...i.platforms]);
  return {
    platformsPerImage,
    platforms: union(platformsPerImage),
    push: plan.push,
    // bakeArgv: --push wins over --load
    load: !plan.push && !!opts.load,
    registryCacheExport: plan.cache === 'registry' && plan.push,
    attest: !!opts.attest,
    network: plan.network,
  };
}

/** Why this builder cannot carry out the plan, one short sentence each with what to do; empty: it can. */
export function builderProblems(facts: BuilderFacts, needs: PlanNeeds): string[] {
  return [
    ...versionProblems(facts, needs),
    ...dockerStoreProblems(facts, needs),
    ...platformProblems(facts, needs),
    ...loadProblems(facts, needs),
  ];
}

const STORE_ON = 'turn it on ("features": {"containerd-snapshotter": true} in daemon.json)';

function label(f: BuilderFacts): string {
  return `builder ${f.name ?? '(current)'} (driver ${f.driver})`;
}

function widest(needs: PlanNeeds): string[] {
  return needs.platformsPerImage.reduce<string[]>((w, p) => (p.length > w.length ? p : w), []);
}

function and(list: string[]): string {
  return list.length < 2 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}

function versionProblems(f: BuilderFacts, needs: PlanNeeds): string[] {
  const out: string[] = [];
  const old = tooOldWhy(f.version);
  if (old) out.push(old);
  if (needs.network !== 'default' && semver.lt(f.version, MIN_BUILDX_NETWORK)) {
    out.push(
      `docker buildx ${f.version} cannot give RUN steps --network ${needs.network}: bake needs ${MIN_BUILDX_NETWORK} for it (older bake drops the network without a word and does not know --allow): update the docker-buildx plugin, use --network default, or --driver docker`,
    );
  }
  return out;
}

/** The docker driver with the classic image store: no multi-platform images, no cache export, no attestations (buildx Features()). */
function dockerStoreProblems(f: BuilderFacts, needs: PlanNeeds): string[] {
  if (f.driver !== 'docker' || f.containerdStore === true) return [];
  const why = `${label(f)} cannot`;
  const how = `without the containerd image store: ${STORE_ON}`;
  const out: string[] = [];
  const w = widest(needs);
  if (w.length > 1)
    out.push(
      `${why} build ${needs.push ? 'and push ' : ''}${and(w)} in one image ${how} or use a docker-container builder, or --driver docker`,
    );
  if (needs.registryCacheExport)
    out.push(`${why} export a registry cache (cache-to) ${how}, use a docker-container builder, or --cache none`);
  if (needs.attest) out.push(`${why} add attestations ${how}, use a docker-container builder, or drop --attest`);
  return out;
}

function platformProblems(f: BuilderFacts, needs: PlanNeeds): string[] {
  if (f.platforms.length === 0) return [];
  const listed = new Set(f.platforms.map(normalizePlatform));
  const missing = needs.platforms.filter((p) => !listed.has(normalizePlatform(p)));
  if (missing.length === 0) return [];
  const kept = needs.platforms.filter((p) => !missing.includes(p));
  const fixes = [
    `register emulation (docker run --privileged --rm tonistiigi/binfmt --install ${missing.map((p) => p.split('/')[1]).join(',')})`,
  ];
  if (f.driver !== 'docker') fixes.push('add a node for it (docker buildx create --append)');
  if (kept.length > 0) fixes.push(`leave it out (--platform ${kept.join(',')})`);
  return [`${label(f)} cannot build ${and(missing)}: it lists only ${f.platforms.join(', ')}: ${orList(fixes)}`];
}

function orList(fixes: string[]): string {
  return fixes.length < 2 ? fixes.join('') : `${fixes.slice(0, -1).join(', ')} or ${fixes.at(-1)}`;
}

/**
 * --load of a multi-platform image or one with attestations needs an engine with the containerd store (buildx loads
 * it as OCI then; without it the docker exporter refuses manifest lists). This holds for every driver since buildx
 * v0.11; for the docker driver without the store dockerStoreProblems has said so already.
 */
function loadProblems(f: BuilderFacts, needs: PlanNeeds): string[] {
  if (!needs.load || f.containerdStore === true || f.driver === 'docker') return [];
  const into = `the engine it loads into has to use the containerd image store: ${STORE_ON}, push instead (--push)`;
  const out: string[] = [];
  const w = widest(needs);
  if (w.length > 1) out.push(`${label(f)} cannot --load ${and(w)} as one image: ${into}, or load one platform (--platform ${w[0]})`);
  if (needs.attest) out.push(`${label(f)} cannot --load an image with attestations: ${into}, or drop --attest`);
  return out;
}
