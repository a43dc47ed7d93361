/**
 * Container lifecycle for `idekube test`: what a test container looks like (a pure value, unit-tested), and a
 * session that creates, starts, execs into and finally removes exactly the containers and volumes it made.
 * Port 80 is published on 127.0.0.1 only, on a port the engine picks free, so several tests run at once.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { messageOf, RunError } from '../config/errors.js';
import type { Engine } from '../engine/connect.js';
import { within } from './wait.js';

export const NAME_PREFIX = 'idekube-test-';
export const SESSION_LABEL = 'io.idekube.test.session';

export interface VolumeMount {
  volume: string;
  target: string;
  /** Do not copy the image's files at `target` into a new volume (an empty home, like a fresh PVC). */
  nocopy?: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  platform: string;
  env: Record<string, string>;
  /** `docker run --user` */
  user?: string;
  privileged?: boolean;
  /** `--cap-add` */
  capAdd?: string[];
  /** `--security-opt` */
  securityOpt?: string[];
  /** Publish port 80 on 127.0.0.1 (the engine picks the host port). */
  publish: boolean;
  mounts: VolumeMount[];
  labels: Record<string, string>;
  /** Request every GPU (NVIDIA runtime). */
  gpus?: boolean;
}

/** The Engine API body for a spec. Pure: same spec, same options. */
export function createOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const env = Object.keys(spec.env)
    .sort()
    .map((k) => `${k}=${spec.env[k]}`);
  const host: Dockerode.HostConfig = {
    AutoRemove: false,
    Privileged: Boolean(spec.privileged),
    ...(spec.capAdd?.length ? { CapAdd: spec.capAdd } : {}),
    ...(spec.securityOpt?.length ? { SecurityOpt: spec.securityOpt } : {}),
    // the Engine API makes every VolumeOptions field optional; @types/dockerode requires Labels and DriverConfig
    Mounts: spec.mounts.map(
      (m) =>
        ({
          Type: 'volume',
          Source: m.volume,
          Target: m.target,
          ...(m.nocopy ? { VolumeOptions: { NoCopy: true } } : {}),
        }) as Dockerode.MountSettings,
    ),
    ...(spec.publish ? { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
    ...(spec.gpus ? { DeviceRequests: [{ Driver: '', Count: -1, DeviceIDs: [], Capabilities: [['gpu']], Options: {} }] } : {}),
  };
  return {
    name: spec.name,
    Image: spec.image,
    Env: env,
    Labels: spec.labels,
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.publish ? { ExposedPorts: { '80/tcp': {} } } : {}),
    HostConfig: host,
    platform: spec.platform,
  };
}

/** Docker container/volume names: lower-case letters, digits, `.`, `_`, `-`. */
export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export function sessionId(): string {
  return `${Date.now().toString(36).slice(-5)}${randomBytes(3).toString('hex')}`;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  user?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Strips Docker's 8-byte stream headers from non-TTY logs. */
export function demuxLogs(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return out;
}

export class TestContainer {
  port = 0;
  constructor(
    readonly engine: Engine,
    readonly spec: ContainerSpec,
    readonly handle: Dockerode.Container,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  async start(): Promise<void> {
    try {
      await within(this.handle.start(), 60_000, `${this.name} did not start within 60 s`);
    } catch (e) {
      throw new RunError(`cannot start test container ${this.name} (${this.spec.image}): ${messageOf(e)}`, { cause: e });
    }
    await this.readPort();
  }

  /** The host port of 80/tcp (it may change across a restart). */
  async readPort(): Promise<number> {
    if (!this.spec.publish) return 0;
    const info = await within(this.handle.inspect(), 30_000, `inspecting ${this.name} took longer than 30 s`);
    const binding =
      info.NetworkSettings.Ports?.['80/tcp']?.find((b) => b.HostIp === '127.0.0.1') ?? info.NetworkSettings.Ports?.['80/tcp']?.[0];
    this.port = binding ? Number(binding.HostPort) : 0;
    return this.port;
  }

  async state(): Promise<{ running: boolean; exitCode: number; status: string }> {
    const info = await within(this.handle.inspect(), 30_000, `inspecting ${this.name} took longer than 30 s`);
    return { running: Boolean(info.State.Running), exitCode: info.State.ExitCode, status: info.State.Status };
  }

  async logs(): Promise<string> {
    const buf = await within(
      this.handle.logs({ stdout: true, stderr: true, follow: false }),
      30_000,
      `reading the logs of ${this.name} took longer than 30 s`,
    );
    return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
  }

  /** The last lines of the logs, for failure messages. */
  async logTail(lines = 15): Promise<string> {
    const text = await this.logs().catch((e) => `(logs unavailable: ${messageOf(e)})`);
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  async exec(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const ex = await within(
      this.handle.exec({
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
        ...(opts.user ? { User: opts.user } : {}),
        ...(opts.env ? { Env: Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) } : {}),
      }),
      timeoutMs,
      `starting \`${cmd[0]}\` in ${this.name} took longer than ${timeoutMs / 1000} s`,
    );
    const stream = await within(
      ex.start({ hijack: true, stdin: false }),
      timeoutMs,
      `starting \`${cmd[0]}\` in ${this.name} took longer than ${timeoutMs / 1000} s`,
    );
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    err.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    this.engine.modem.demuxStream(stream, out, err);
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          stream.on('end', () => resolve());
          stream.on('close', () => resolve());
          stream.on('error', reject);
        }),
        timeoutMs,
        `\`${cmd.join(' ')}\` in ${this.name} did not finish within ${timeoutMs / 1000} s`,
      );
    } finally {
      stream.destroy();
    }
    const info = await within(ex.inspect(), 30_000, `reading the exit status of \`${cmd[0]}\` took longer than 30 s`);
    return { code: info.ExitCode ?? -1, stdout, stderr };
  }

  async restart(timeoutS = 10): Promise<void> {
    await within(this.handle.restart({ t: timeoutS }), (timeoutS + 60) * 1000, `${this.name} did not restart within ${timeoutS + 60} s`);
    await this.readPort();
  }

  async stop(timeoutS = 10): Promise<void> {
    await within(this.handle.stop({ t: timeoutS }), (timeoutS + 60) * 1000, `${this.name} did not stop within ${timeoutS + 60} s`).catch(
      (e) => {
        if (!/not running|304/i.test(String(messageOf(e)))) throw e;
      },
    );
  }

  /**
   * Waits (bounded) for the container to exit; resolves its exit code. Polls inspect rather than the Engine's
   * long-polling /wait: a /wait left pending when the bound passes keeps its socket, and so the process, alive for
   * as long as the container runs (with --keep: for ever).
   */
  async waitExit(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await within(this.handle.inspect(), 30_000, `inspecting ${this.name} took longer than 30 s`);
      if (!info.State.Running && !info.State.Restarting && info.State.Status !== 'created') return info.State.ExitCode;
      if (Date.now() >= deadline) throw new Error(`${this.name} did not exit within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Puts files into the container (before or after start), e.g. a start-up hook into a mounted volume. */
  async putFiles(dir: string, files: Array<{ name: string; text: string; mode: number }>): Promise<void> {
    await this.handle.putArchive(tarOf(files), { path: dir });
  }
}

/** A minimal ustar archive of regular files (what putArchive takes). */
export function tarOf(files: Array<{ name: string; text: string; mode: number }>): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const body = Buffer.from(f.text, 'utf8');
    const h = Buffer.alloc(512, 0);
    h.write(f.name, 0, 100, 'utf8');
    h.write(`${f.mode.toString(8).padStart(7, '0')}\0`, 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      'ascii',
    );
    h.write('        ', 148, 'ascii');
    h.write('0', 156, 'ascii');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512, 0));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}

/**
 * Everything one `idekube test` run creates, so that it can all be removed at the end (or kept with --keep).
 * Names start with `idekube-test-<session>-`; nothing else is ever touched.
 */
export class TestSession {
  readonly id: string;
  private containers: TestContainer[] = [];
  private volumes: string[] = [];

  constructor(
    readonly engine: Engine,
    id?: string,
  ) {
    this.id = id ?? sessionId();
  }

  name(...parts: string[]): string {
    return `${NAME_PREFIX}${this.id}-${parts.map(slug).join('-')}`;
  }

  async volume(...parts: string[]): Promise<string> {
    const name = this.name(...parts);
    await this.engine.createVolume({ Name: name, Labels: { [SESSION_LABEL]: this.id } });
    this.volumes.push(name);
    return name;
  }

  async create(spec: Omit<ContainerSpec, 'labels'> & { labels?: Record<string, string> }): Promise<TestContainer> {
    const full: ContainerSpec = { ...spec, labels: { ...spec.labels, [SESSION_LABEL]: this.id } };
    let handle: Dockerode.Container;
    try {
      handle = await this.engine.createContainer(createOptions(full));
    } catch (e) {
      throw new RunError(`cannot create test container ${full.name} from ${full.image}: ${messageOf(e)}`, { cause: e });
    }
    const c = new TestContainer(this.engine, full, handle);
    this.containers.push(c);
    return c;
  }

  /** Removes one container now (frees CPU early); kept with --keep. */
  async dispose(c: TestContainer, keep: boolean): Promise<void> {
    if (keep) return;
    await c.handle.remove({ force: true, v: true }).catch(() => {});
    this.containers = this.containers.filter((x) => x !== c);
  }

  /** Names of what this session made (for --keep). */
  resources(): string[] {
    return [
      ...this.containers.map((c) => `container ${c.name}${c.port ? ` (http://127.0.0.1:${c.port}/)` : ''}`),
      ...this.volumes.map((v) => `volume ${v}`),
    ];
  }

  /** Removes every container, then every volume this session created. Never throws. */
  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      this.containers.map((c) =>
        within(c.handle.remove({ force: true, v: true }), 60_000, 'no answer within 60 s').catch((e: Error) => {
          if (!/no such container|404/i.test(e.message)) problems.push(`container ${c.name}: ${e.message}`);
        }),
      ),
    );
    this.containers = [];
    for (const v of this.volumes) {
      await within(this.engine.getVolume(v).remove(), 60_000, 'no answer within 60 s').catch((e: Error) => {
        if (!/no such volume|404/i.test(e.message)) problems.push(`volume ${v}: ${e.message}`);
      });
    }
    this.volumes = [];
    return problems;
  }
}
