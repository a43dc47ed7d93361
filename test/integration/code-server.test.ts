/**
 * The real code-server, built and served: the agent fixture's coder/base installs code-server from npm (its
 * release tarballs are on GitHub, which these machines cannot reach) on a Node.js of its own, through this
 * machine's TLS-intercepting proxy with the host's CA bundle (--extra-ca-certs), on the docker driver
 * (dockerd 20.10). `idekube test` then runs the `coder` check against it (the workbench page through nginx at
 * /coder/ and the editor's WebSocket upgrade), /health with code-server as the main service, and
 * `code-server --version` typed into the web terminal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runId, testEnv } from '../helpers/env.js';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/project.js';

const env = testEnv();
const id = runId();
const HOST_BUNDLE = ['/etc/ssl/certs/ca-certificates.crt', process.env.SSL_CERT_FILE ?? ''].find((f) => f && existsSync(f))!;
const CODER_VERSION = '4.139.1';

interface Check {
  name: string;
  status: string;
  message: string;
}

describe('the real code-server from npm (agent fixture coder/base, docker driver on dockerd 20.10)', { timeout: 1_800_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'idekube-code-server-'));
  const fixture = join(work, 'agent');
  const tag = `cs-${id}`;
  const ref = `${env.registry}/idekube-test/agent:coder-base-${tag}-amd64`;
  let built: CliResult;
  before(() => {
    // the fixture shares the catalog's layers through links, which idekube refuses to follow: a copy without them
    cpSync(`${REPO_ROOT}/test/fixtures/agent`, fixture, { recursive: true, dereference: true });
    const t0 = Date.now();
    built = runCli(
      [
        '-C',
        fixture,
        '--git-tag',
        tag,
        '--json',
        'build',
        'coder/base',
        '--driver',
        'docker',
        '--platform',
        'linux/amd64',
        '--extra-ca-certs',
        HOST_BUNDLE,
      ],
      { timeoutMs: 1_500_000 },
    );
    process.stderr.write(`# code-server fixture build (docker driver): ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });
  after(() => {
    try {
      execFileSync('docker', ['rmi', '-f', ref], { stdio: 'ignore', timeout: 120_000 });
    } catch {
      /* already gone */
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('builds: code-server and its Node.js came from npm through the proxy, its native modules compiled here', () => {
    assert.equal(built.code, 0, built.stderr.slice(-4000));
  });

  it('idekube test: the coder check passes against the real code-server, /health names it, the terminal runs code-server --version', () => {
    const r = runCli(
      [
        '-C',
        fixture,
        '--git-tag',
        tag,
        '--json',
        'test',
        'coder/base',
        '--platform',
        'linux/amd64',
        '--only',
        'nginx,coder,health,terminal,command',
        '--timeout',
        '180',
      ],
      { timeoutMs: 600_000 },
    );
    const report = JSON.parse(r.stdout) as { images: Array<{ checks: Check[] }> };
    const checks = Object.fromEntries(report.images[0]!.checks.map((c) => [c.name, c]));
    for (const name of ['nginx', 'coder', 'health', 'terminal', 'command code-server'])
      assert.equal(checks[name]?.status, 'pass', `${name}: ${checks[name]?.message}`);
    assert.match(checks.coder!.message, /GET \/coder\/\S* → 200 \(code-server page\); WebSocket upgrade on \/coder\/ → 101/);
    assert.match(
      checks['command code-server']!.message,
      new RegExp(`typed \`code-server --version\` → exit 0, "${CODER_VERSION.replace(/\./g, '\\.')} [0-9a-f]{40} with Code`),
    );
    assert.equal(r.code, 0, r.stderr.slice(-2000));
  });

  it('the image keeps code-server, its Node.js and the libraries the modules built here load, and no compiler, npm or npm cache', () => {
    const script = [
      'for c in gcc g++ make npm; do command -v $c >/dev/null && echo "left: $c"; done',
      '[ -d /root/.npm ] && echo "left: /root/.npm"',
      '/usr/lib/code-server/bin/node --version',
      'for m in $(find /usr/lib/code-server -path "*/build/Release/*.node" -type f); do ldd "$m" | grep "not found" | sed "s|^|$m: |"; done',
      'true',
    ].join('; ');
    const out = execFileSync('docker', ['run', '--rm', '--entrypoint', 'sh', ref, '-c', script], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(out.trim(), 'v24.22.3');
  });
});
