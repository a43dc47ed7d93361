/** Throwaway idekube projects on disk for tests, and a way to run the real CLI against them. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(REPO_ROOT, 'bin/idekube.js');

export type Files = Record<string, string>;

/** A small valid catalog: two root flavors sharing layers, a child, and a grandchild. */
export const BASE_FILES: Files = {
  '.dockerargs': 'BASE_IMAGE=debian:bookworm\nTOOL_VERSION=1.0\n',
  'flavors/layers/base.yaml': 'description: base packages\nrun: install.sh\nargs:\n  TZ: UTC\n',
  'artifacts/layers/base/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\n',
  'flavors/layers/tool.yaml':
    'run: install.sh\nargs:\n  TOOL_VERSION: null\nservices:\n  web:\n    routes:\n      - {path: /web/, port: 8080}\n    programs:\n      web: {command: /usr/bin/web}\n',
  'artifacts/layers/tool/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\n',
  'flavors/layers/extra.yaml': 'run: install.sh\nrequires: [base]\n',
  'artifacts/layers/extra/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\n',
  'flavors/layers/amd64only.yaml': 'run: install.sh\nplatforms: [linux/amd64]\n',
  'artifacts/layers/amd64only/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\n',
  'flavors/alpha/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [base, tool]\n',
  'flavors/beta/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [base]\n',
  'flavors/alpha/child/flavor.yaml': 'from:\n  parent: alpha/base\nlayers: [extra]\n',
  'flavors/alpha/grandchild/flavor.yaml': 'from:\n  parent: alpha/child\nplatforms: [linux/amd64]\nlayers: [amd64only]\n',
};

export function makeProject(files: Files = BASE_FILES, overrides: Files = {}, remove: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'idekube-test-'));
  const all = { ...files, ...overrides };
  for (const r of remove) delete all[r];
  for (const [rel, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/idekube.js for real, with a clean environment (only PATH/HOME plus `env`). */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    ...opts.env,
  };
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a git command in `dir`; throws on failure. */
export function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.invalid',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.invalid',
    },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

export function writeFile(dir: string, rel: string, text: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}
