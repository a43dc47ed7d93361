/**
 * Facts about the integration-test environment that test/env/setup.sh prepared (dockerd, a registry on
 * 127.0.0.1:5000, binfmt for arm64, local Debian base images). Read from /var/lib/idekube-test/env.sh when present.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Engine } from '../../src/engine/connect.js';
import { demuxLogs as demux } from '../../src/verify/container.js';

export interface TestEnv {
  registry: string;
  baseImage: string;
  /** The current engine (dockerd 28 + containerd store + buildx 0.29) beside bookworm's: what to set to use it. */
  current: { DOCKER_HOST: string; DOCKER_CONFIG: string; PATH: string };
}

export function testEnv(): TestEnv {
  const vars: Record<string, string> = {};
  const file = '/var/lib/idekube-test/env.sh';
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(?:export\s+)?([A-Z_]+)=["']?([^"']*)["']?$/.exec(line.trim());
      if (m) vars[m[1]!] = m[2]!;
    }
  }
  return {
    registry: process.env.IDEKUBE_TEST_REGISTRY ?? vars.IDEKUBE_TEST_REGISTRY ?? '127.0.0.1:5000',
    baseImage: process.env.IDEKUBE_TEST_BASE_IMAGE ?? vars.IDEKUBE_TEST_BASE_IMAGE ?? '127.0.0.1:5000/idekube-test/debian:bookworm',
    current: {
      DOCKER_HOST: vars.IDEKUBE_TEST_CURRENT_DOCKER_HOST ?? 'unix:///run/idekube-test-engine/docker.sock',
      DOCKER_CONFIG: vars.IDEKUBE_TEST_CURRENT_DOCKER_CONFIG ?? '/var/lib/idekube-test/engine2/docker-config',
      // its docker CLI (28.5.2) first on PATH, so `docker buildx` is the pinned plugin under the pinned CLI
      PATH: `${dirname(vars.IDEKUBE_TEST_CURRENT_DOCKER_CLI ?? '/opt/idekube-test-engine/usr/bin/docker')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    },
  };
}

/** A short unique id so that parallel or repeated runs never share tags. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1296)
    .toString(36)
    .padStart(2, '0')}`;
}

/** Runs `cmd` in a fresh container (removed afterwards) and returns its output; bounded by timeoutMs. */
export async function runOnce(engine: Engine, image: string, cmd: string[], timeoutMs = 60_000): Promise<{ code: number; output: string }> {
  const container = await engine.createContainer({ Image: image, Cmd: cmd, Entrypoint: [], HostConfig: { AutoRemove: false } });
  try {
    await container.start();
    const result = (await Promise.race([
      container.wait(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`container did not finish within ${timeoutMs} ms`)), timeoutMs).unref()),
    ])) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    return { code: result.StatusCode, output: demux(logs) };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Strips Docker's 8-byte stream headers from non-TTY logs (the product's own helper). */
export { demux };

/** Removes local images by tag (only the ones a test created; never a host-wide prune). */
export async function removeImages(engine: Engine, refs: string[]): Promise<void> {
  for (const r of refs)
    await engine
      .getImage(r)
      .remove({ force: true })
      .catch(() => {});
}
