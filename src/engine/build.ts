/**
 * One BuildKit build on the Docker Engine (`version: "2"`), for one platform, from a generated context folder.
 * Progress comes back as decoded BuildKit vertexes, so callers can tell cached steps from rebuilt ones.
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { RunError } from '../config/errors.js';
import { decodeStatus, type Vertex } from './buildkit-status.js';
import type { ImageBuildOptions } from 'dockerode';
import type { Engine } from './connect.js';
import { canOpenSession, openBuildSession } from './session.js';

export interface BuildRequest {
  contextDir: string;
  /** Dockerfile path inside the context (default: Dockerfile). */
  dockerfile?: string;
  /** Files to send (relative to contextDir; default: everything under it). */
  files?: string[];
  platform: string;
  tags: string[];
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /** Always check the registry for a newer base (default false: a child must use its parent as just built). */
  pull?: boolean;
  noCache?: boolean;
  /** Images whose inline cache BuildKit may reuse (Engine API `cachefrom`); one that does not exist yet is skipped. */
  cacheFrom?: string[];
  /** Network of RUN steps (Engine API `networkmode`; absent or `default`: the engine's own). */
  network?: 'default' | 'host' | 'none';
  /** Build secrets, id → absolute file path (`RUN --mount=type=secret,id=…`); served through a BuildKit session. */
  secrets?: Record<string, string>;
  signal?: AbortSignal;
  onStep?: (step: BuildStep) => void;
  onLog?: (line: string) => void;
}

/** A build step as BuildKit reports it. */
export type BuildStep = Vertex;

export interface BuildResult {
  imageId: string;
  steps: BuildStep[];
  /** Steps that ran (not cached), excluding internal ones ([internal], metadata loads). */
  executed: BuildStep[];
  cached: BuildStep[];
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/**
 * Dockerfile steps worth counting: RUN, COPY… — not context transfer, metadata, internal loads, nor FROM (a base
 * image source, which BuildKit may report uncached when two builds share it at the same moment).
 */
export function isUserStep(name: string): boolean {
  return /^\[(?:[\w-]+ )?\d+\/\d+\] (?!FROM )/.test(name);
}

export async function buildImage(engine: Engine, req: BuildRequest): Promise<BuildResult> {
  // Every generated RUN step mounts the secret idekube-ca (absent unless --extra-ca-certs), and a secret mount needs
  // a session that answers for secrets: ours. dockerode's own (registry auth only, no method list) leaves BuildKit
  // waiting on dockerd 20.10 until "no active session … context deadline exceeded". An ssh endpoint cannot carry
  // ours: dockerode's then, and secrets are refused.
  const secrets = req.secrets ?? {};
  if (!canOpenSession(engine)) {
    if (Object.keys(secrets).length) await openBuildSession(engine, secrets); // throws, saying which endpoints can
    return buildOnce(engine, req);
  }
  const session = await openBuildSession(engine, secrets, req.signal ? { signal: req.signal } : {});
  try {
    return await buildOnce(engine, req, session.id);
  } finally {
    await session.close();
  }
}

type BuildContext = { context: string; src: string[] };

/**
 * The query of the Engine API's `POST /build` ("Build an image"), where @types/dockerode's ImageBuildOptions is
 * narrower than the API: `t` may be given once per tag (docker-modem writes an array as repeated keys), `pull` is a
 * string in the API ('' is no), and `session` (the BuildKit session id, as the docker CLI sends it) is missing.
 * Optional like dockerode's own fields, so that the one cast below (to dockerode's type) is a plain narrowing.
 */
interface EngineBuildOptions extends Omit<ImageBuildOptions, 't' | 'pull'> {
  t?: string | string[];
  pull?: string | boolean;
  session?: string;
}

/** dockerode's buildImage with the Engine API's options: dockerode hands the object to the query as it is. */
function dockerodeBuild(engine: Engine, context: BuildContext, options: EngineBuildOptions): Promise<NodeJS.ReadableStream> {
  // @types/dockerode's `t` is one string, where the API repeats it per tag (see EngineBuildOptions)
  return engine.buildImage(context, options as ImageBuildOptions);
}

/** What dockerode's buildImage and the modem answer with: an HTTP response, which can be destroyed to cancel. */
type BuildStream = NodeJS.ReadableStream & { destroy(): void };

function isBuildStream(s: unknown): s is BuildStream {
  return typeof s === 'object' && s !== null && 'on' in s && 'destroy' in s && typeof s.destroy === 'function';
}

function asBuildStream(s: unknown): BuildStream {
  if (!isBuildStream(s)) throw new RunError('the engine answered the build without a stream');
  return s;
}

type PrepareContext = (file: BuildContext, next: (tar: NodeJS.ReadableStream) => void) => void;

/**
 * dockerode 5 opens a session of its own for every `version: "2"` build (registry auth only) and overwrites the
 * `session` option with its id, so a build that needs ours is posted through the modem, as dockerode would post it:
 * same path, same query, same context tar (dockerode's own packer, .dockerignore included).
 */
async function postBuild(engine: Engine, context: BuildContext, options: EngineBuildOptions, signal?: AbortSignal): Promise<BuildStream> {
  // an internal module of dockerode (no types): the one function used, as dockerode calls it
  const { prepareBuildContext } = createRequire(import.meta.url)('dockerode/lib/util.js') as { prepareBuildContext: PrepareContext };
  const file = await new Promise<NodeJS.ReadableStream>((resolve) => prepareBuildContext(context, resolve));
  return new Promise((resolve, reject) => {
    engine.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        file,
        options,
        abortSignal: signal,
        isStream: true,
        statusCodes: { 200: true, 500: 'server error' },
      },
      (err, res) => (err ? reject(err) : resolve(asBuildStream(res))),
    );
  });
}

/** One line of the build's answer (the Engine API's JSONMessage), as far as it is read here. */
interface BuildMessage {
  id?: string;
  stream?: unknown;
  error?: string;
  errorDetail?: { message?: string };
  /** `{ ID }` for the image id; for `moby.buildkit.trace`, a base64 BuildKit status. */
  aux?: unknown;
}

async function buildOnce(engine: Engine, req: BuildRequest, sessionId?: string): Promise<BuildResult> {
  const state: BuildState = { steps: new Map<string, BuildStep>(), imageId: '', failure: undefined };
  const context = { context: req.contextDir, src: req.files ?? listFiles(req.contextDir) };
  const options = buildOptions(req, sessionId);
  const stream = sessionId
    ? await postBuild(engine, context, options, req.signal)
    : asBuildStream(await dockerodeBuild(engine, context, options));
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      req.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => {
      stream.destroy();
      finish(new RunError('build cancelled'));
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const handle = (line: string) => handleMessage(line, state, req);
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      lines.forEach(handle);
    });
    stream.on('error', (e: Error) => finish(new RunError(`build failed: ${e.message}`, { cause: e })));
    stream.on('end', () => {
      handle(buffer);
      finish();
    });
  });
  if (state.failure) throw new RunError(`build failed: ${state.failure}`);
  if (!state.imageId) throw new RunError('build finished without an image id');
  const all = [...state.steps.values()];
  const user = all.filter((s) => isUserStep(s.name));
  return { imageId: state.imageId, steps: all, executed: user.filter((s) => !s.cached), cached: user.filter((s) => s.cached) };
}

/** What the build's message stream has told so far. */
interface BuildState {
  steps: Map<string, BuildStep>;
  imageId: string;
  failure: string | undefined;
}

/** The engine's build options from the request (a BuildKit session where one is given). */
function buildOptions(req: BuildRequest, sessionId: string | undefined): EngineBuildOptions {
  return {
    version: '2',
    ...(req.dockerfile ? { dockerfile: req.dockerfile } : {}),
    t: req.tags,
    platform: req.platform,
    buildargs: req.buildArgs ?? {},
    labels: req.labels ?? {},
    pull: req.pull ? '1' : '',
    nocache: Boolean(req.noCache),
    ...(req.cacheFrom?.length ? { cachefrom: JSON.stringify(req.cacheFrom) } : {}),
    ...(req.network && req.network !== 'default' ? { networkmode: req.network } : {}),
    ...(sessionId ? { session: sessionId } : {}),
    ...(req.signal ? { abortSignal: req.signal } : {}),
  };
}

/** One line of the build's JSON stream: an error, the image id, a log line or BuildKit step progress. */
function handleMessage(line: string, state: BuildState, req: BuildRequest): void {
  if (!line.trim()) return;
  let ev: BuildMessage;
  try {
    ev = JSON.parse(line);
  } catch {
    return;
  }
  if (ev.error || ev.errorDetail) state.failure = ev.errorDetail?.message ?? ev.error;
  const auxId = typeof ev.aux === 'object' && ev.aux !== null && 'ID' in ev.aux && typeof ev.aux.ID === 'string' ? ev.aux.ID : '';
  if (ev.id === 'moby.image.id' && auxId) state.imageId = auxId;
  if (auxId && !ev.id) state.imageId = auxId;
  if (typeof ev.stream === 'string' && ev.stream.trim()) req.onLog?.(ev.stream.trimEnd());
  if (ev.id === 'moby.buildkit.trace' && typeof ev.aux === 'string') {
    const status = decodeStatus(ev.aux);
    for (const v of status.vertexes) {
      const prev = state.steps.get(v.digest);
      const merged: BuildStep = prev
        ? {
            ...prev,
            ...v,
            cached: prev.cached || v.cached,
            started: prev.started || v.started,
            completed: prev.completed || v.completed,
          }
        : { ...v };
      state.steps.set(v.digest, merged);
      req.onStep?.(merged);
    }
    for (const l of status.logs) for (const text of l.msg.split('\n')) if (text.trim()) req.onLog?.(text);
  }
}
