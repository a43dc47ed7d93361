/** Shared helpers for benchmark scripts: timing, medians, machine facts. Benchmarks print figures; they assert nothing. */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { Engine } from '../src/engine/connect.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall time of one run of argv, in milliseconds (stdout/stderr discarded). */
export function timeOnce(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return ms;
}

export function machine(): string {
  const docker = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}, Docker Engine ${docker.status === 0 ? docker.stdout.trim() : 'not running'}`;
}

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;
}

/**
 * A cold start. BuildKit reuses the layers of any image still in the engine, even after its cache is pruned, so
 * first every image all of whose names `ours` accepts goes (by tag or by digest), then dangling images (what
 * `docker image prune` removes), then the whole build cache. Other images are not touched.
 */
export async function coldStart(engine: Engine, ours: (ref: string) => boolean): Promise<void> {
  for (const img of await engine.listImages()) {
    const refs = [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])].filter((r) => !r.startsWith('<none>'));
    if (refs.length && refs.every(ours))
      await engine
        .getImage(img.Id)
        .remove({ force: true })
        .catch(() => {});
  }
  await engine.pruneImages({ filters: { dangling: ['true'] } });
  await (engine as unknown as { pruneBuilder: (o: object) => Promise<unknown> }).pruneBuilder({ all: true });
}
