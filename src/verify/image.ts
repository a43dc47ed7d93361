/**
 * The image under test: make sure the engine has it (pulling it when it is only in a registry), and read what it
 * says about itself — env, labels, /etc/idekube/flavor.json, its shells, user and skeleton — with one short probe
 * container (no network, removed at once).
 */
import type Dockerode from 'dockerode';
import { messageOf, RunError } from '../config/errors.js';
import type { Engine } from '../engine/connect.js';
import { demuxLogs, slug } from './container.js';
import type { ImageFacts } from './types.js';
import { within } from './wait.js';

export async function ensureImage(engine: Engine, ref: string, timeoutMs: number, platform?: string): Promise<Dockerode.ImageInspectInfo> {
  try {
    return await engine.getImage(ref).inspect();
  } catch (e) {
    if (!/no such image|404/i.test(messageOf(e))) throw new RunError(`cannot inspect ${ref}: ${messageOf(e)}`, { cause: e });
  }
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        engine.pull(ref, platform ? { platform } : {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
          if (err || !stream) return reject(err ?? new Error('no pull stream'));
          engine.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
        });
      }),
      timeoutMs,
      `pulling ${ref} took longer than ${Math.round(timeoutMs / 1000)} s`,
    );
    return await engine.getImage(ref).inspect();
  } catch (e) {
    throw new RunError(`image ${ref} is neither in the local engine nor pullable: ${messageOf(e).split('\n')[0]}`, {
      fix: 'build it first (idekube build <flavor> --platform …), or pass --image with a reference that exists',
    });
  }
}

/** Runs inside the probe container as `sh -c PROBE probe USERNAME`; sections start with `--- name`. Fixed text. */
export const PROBE_SCRIPT = [
  'echo "--- flavor.json"; cat /etc/idekube/flavor.json 2>/dev/null',
  'echo "--- shells"; for s in $(grep "^/" /etc/shells 2>/dev/null); do [ -x "$s" ] && echo "$s"; done',
  'echo "--- passwd"; getent passwd "$1" 2>/dev/null || grep "^$1:" /etc/passwd 2>/dev/null',
  'echo "--- skel"; if [ -d /etc/skel ]; then echo "(exists)"; cd /etc/skel && find . -type f 2>/dev/null | sort; fi',
  'echo "--- files"; for f in /startup.sh /usr/local/lib/idekube/detect-gpu.sh; do [ -e "$f" ] && echo "$f"; done',
  'echo "--- end"',
].join('\n');

export function parseProbe(text: string): Omit<ImageFacts, 'id' | 'architecture' | 'env' | 'labels' | 'entrypoint'> {
  const sections: Record<string, string[]> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    const m = /^--- (\S+)$/.exec(line);
    if (m) {
      cur = m[1]!;
      sections[cur] = [];
    } else if (cur) sections[cur]!.push(line);
  }
  let metadata: ImageFacts['metadata'];
  const json = (sections['flavor.json'] ?? []).join('\n').trim();
  if (json) {
    try {
      metadata = JSON.parse(json) as ImageFacts['metadata'];
    } catch {
      metadata = undefined;
    }
  }
  const pw = (sections.passwd ?? []).find((l) => l.includes(':'));
  let user: ImageFacts['user'];
  if (pw) {
    const f = pw.split(':');
    if (f.length >= 7) user = { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
  }
  const skelLines = (sections.skel ?? []).filter((l) => l.trim());
  const files = new Set((sections.files ?? []).map((l) => l.trim()));
  return {
    ...(metadata ? { metadata } : {}),
    shells: (sections.shells ?? []).map((l) => l.trim()).filter(Boolean),
    ...(user ? { user } : {}),
    skelExists: skelLines[0] === '(exists)',
    skel: skelLines.filter((l) => l !== '(exists)').map((l) => l.replace(/^\.\//, '')),
    hasRuntime: files.has('/startup.sh'),
    hasDetectGpu: files.has('/usr/local/lib/idekube/detect-gpu.sh'),
  };
}

export function envMap(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list ?? []) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

export async function probeImage(
  engine: Engine,
  ref: string,
  platform: string,
  info: Dockerode.ImageInspectInfo,
  sessionName: string,
  timeoutMs: number,
): Promise<ImageFacts> {
  const env = envMap(info.Config?.Env);
  const userName = env.USERNAME || 'idekube';
  const name = `${sessionName}-probe-${slug(platform)}`;
  const c = await engine.createContainer({
    name,
    Image: ref,
    Entrypoint: ['sh', '-c', PROBE_SCRIPT, 'probe', userName],
    Cmd: [],
    User: '0',
    NetworkDisabled: true,
    HostConfig: { AutoRemove: false },
    platform,
  });
  try {
    await within(c.start(), 60_000, `the probe container of ${ref} did not start within 60 s`);
    // @types/dockerode types the wait answer as any; the Engine API's is { StatusCode, Error? }
    const r = (await within(
      c.wait(),
      timeoutMs,
      `the probe container of ${ref} did not finish within ${Math.round(timeoutMs / 1000)} s`,
    )) as { StatusCode: number };
    const out = demuxLogs(await within(c.logs({ stdout: true, stderr: true }), 30_000, "reading the probe's output took longer than 30 s"));
    if (!out.includes('--- end'))
      throw new RunError(
        `cannot look inside ${ref} (probe exit ${r.StatusCode}): ${out.trim().split('\n').slice(-3).join(' | ') || 'no output'}`,
        { fix: 'the image needs /bin/sh' },
      );
    return {
      id: info.Id,
      architecture: info.Architecture,
      env,
      labels: info.Config?.Labels ?? {},
      entrypoint: ([] as string[]).concat(info.Config?.Entrypoint ?? []),
      ...parseProbe(out),
    };
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}
