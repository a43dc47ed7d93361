/**
 * `--extra-ca-certs` for real, on both drivers: the docker driver on bookworm's dockerd 20.10 (a BuildKit session
 * serves the secret) and buildx bake on dockerd 28. A probe layer reports what its RUN step saw; the agent fixture
 * (test/fixtures/agent) installs Claude Code from npm through this machine's TLS-intercepting proxy with the host's
 * CA bundle, and `idekube test` runs `claude --version` in its web terminal. Every image is searched, layer by
 * layer and decompressed, for a throwaway CA certificate that was in the bundle: it must be nowhere. A second
 * build with other certificates takes every step from the cache (the certificates are not part of any cache key).
 * Named so that it runs after buildx.test.ts, whose publish of the fixture catalog warms dockerd 28's build cache
 * with the layers the agent fixture shares.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runId, testEnv } from '../helpers/env.js';
import { REPO_ROOT, cleanup, makeProject, runCli, type CliResult } from '../helpers/project.js';

const env = testEnv();
const id = runId();
const work = mkdtempSync(join(tmpdir(), 'idekube-extra-ca-'));
const HOST_BUNDLE = ['/etc/ssl/certs/ca-certificates.crt', process.env.SSL_CERT_FILE ?? ''].find((f) => f && existsSync(f))!;

interface Engine {
  name: string;
  driver: 'docker' | 'buildx';
  /** What a build needs to leave the image in the engine (bake's default output is the cache only). */
  keep: string[];
  /** The local tag's arch suffix: the docker driver tags per arch, bake --load the multi-arch name. */
  suffix: string;
  env: Record<string, string>;
  /** Its docker CLI (for save/run). */
  cli: string;
}
const ENGINES: Engine[] = [
  { name: 'dockerd 20.10', driver: 'docker', keep: [], suffix: '-amd64', env: {}, cli: '/usr/bin/docker' },
  {
    name: 'dockerd 28',
    driver: 'buildx',
    keep: ['--load'],
    suffix: '',
    env: { ...env.current },
    cli: join(env.current.PATH.split(':')[0]!, 'docker'),
  },
];

/** A throwaway self-signed CA (never trusted by anything): its body lines are what must not reach an image. */
function throwawayCa(name: string): { pem: string; needle: string } {
  const dir = mkdtempSync(join(work, 'ca-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=idekube test CA ${name} ${id}`,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'ca.pem'),
    ],
    { stdio: 'ignore', timeout: 30_000 },
  );
  const pem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  // a full base64 line from the middle of the certificate: unique to it
  const lines = pem.split('\n').filter((l) => /^[A-Za-z0-9+/]{64}$/.test(l));
  return { pem, needle: lines[Math.floor(lines.length / 2)]! };
}

/** host bundle (this machine's proxy CA included) + a throwaway CA, as one PEM file. */
function bundle(name: string, ca: { pem: string }, withHost = true): string {
  const file = join(work, `${name}.pem`);
  writeFileSync(file, `${withHost ? readFileSync(HOST_BUNDLE, 'utf8') : ''}\n${ca.pem}`);
  return file;
}

/** Files of `docker save REF` (layers decompressed) that contain `needle`. */
function filesHolding(e: Engine, ref: string, needle: string): string[] {
  const dir = mkdtempSync(join(work, 'save-'));
  try {
    const script = `set -euo pipefail; "$CLI" save "$REF" | tar -x -C "$DIR"; cd "$DIR"; find . -type f | sort | while read -r f; do if zcat -f -- "$f" | grep -qF -- "$NEEDLE"; then echo "$f"; fi; done`;
    const out = execFileSync('bash', ['-c', script], {
      env: { ...process.env, ...e.env, CLI: e.cli, REF: ref, DIR: dir, NEEDLE: needle },
      encoding: 'utf8',
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return out.split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cli(e: Engine, args: string[], timeoutMs = 1_200_000): CliResult {
  return runCli(args, { env: e.env, timeoutMs });
}

function runIn(e: Engine, ref: string, script: string): string {
  return execFileSync(e.cli, ['run', '--rm', '--entrypoint', 'sh', ref, '-c', script], {
    env: { ...process.env, ...e.env },
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function removeImage(e: Engine, ref: string): void {
  try {
    execFileSync(e.cli, ['rmi', '-f', ref], { env: { ...process.env, ...e.env }, stdio: 'ignore', timeout: 120_000 });
  } catch {
    /* already gone */
  }
}

/** What the probe's RUN step saw, one `key=value` per line (counts, never certificate text). */
const PROBE = `#!/usr/bin/env bash
set -euo pipefail
{
  echo "bundle=\${SSL_CERT_FILE:-unset}"
  echo "same=$([ "\${CURL_CA_BUNDLE:-}" = "\${SSL_CERT_FILE:-x}" ] && [ "\${REQUESTS_CA_BUNDLE:-}" = "\${SSL_CERT_FILE:-x}" ] && [ "\${PIP_CERT:-}" = "\${SSL_CERT_FILE:-x}" ] && [ "\${CONDA_SSL_VERIFY:-}" = "\${SSL_CERT_FILE:-x}" ] && [ "\${GIT_SSL_CAINFO:-}" = "\${SSL_CERT_FILE:-x}" ] && echo yes || echo no)"
  echo "node=\${NODE_EXTRA_CA_CERTS:-unset}"
  echo "certs=$(grep -c 'BEGIN CERTIFICATE' "\${SSL_CERT_FILE:-/dev/null}" || true)"
  echo "node-certs=$(grep -c 'BEGIN CERTIFICATE' "\${NODE_EXTRA_CA_CERTS:-/dev/null}" || true)"
  echo "apt=$(grep -c 'Acquire::https::CAInfo' "\${APT_CONFIG:-/dev/null}" || true)"
} > /probe.txt
`;

function probeOf(e: Engine, ref: string): Record<string, string> {
  return Object.fromEntries(
    runIn(e, ref, 'cat /probe.txt')
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

/** Lines of a --json build result: each target's status. */
function statuses(r: CliResult): string[] {
  return (JSON.parse(r.stdout) as { targets: Array<{ id: string; status: string }> }).targets.map((t) => `${t.id}:${t.status}`);
}

/** `idekube build p/base` of the probe project for amd64 on this engine, then `flags`. */
function buildProbe(e: Engine, dir: string, flags: string[], o: { json?: boolean } = {}): CliResult {
  const json = o.json === false ? [] : ['--json'];
  return cli(e, ['-C', dir, ...json, 'build', 'p/base', '--driver', e.driver, ...e.keep, '--platform', 'linux/amd64', ...flags]);
}

/** `idekube build agent/base` of the agent fixture copy for amd64 on this engine, with the CA bundle `caFile`. */
function buildAgent(e: Engine, fixture: string, tag: string, caFile: string): CliResult {
  return cli(e, [
    '-C',
    fixture,
    '--git-tag',
    tag,
    '--json',
    'build',
    'agent/base',
    '--driver',
    e.driver,
    ...e.keep,
    '--platform',
    'linux/amd64',
    '--extra-ca-certs',
    caFile,
  ]);
}

describe('--extra-ca-certs: RUN steps trust the extra certificates, the image keeps none of them', { timeout: 3_000_000 }, () => {
  const ca1 = throwawayCa('one');
  const ca2 = throwawayCa('two');
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const e of ENGINES) {
    describe(`${e.driver} driver on ${e.name}`, () => {
      let dir: string;
      const ref = `${env.registry}/idekube-it/extra-ca:p-base-${id}-${e.driver}${e.suffix}`;
      before(() => {
        dir = makeProject({
          '.dockerargs': `REGISTRY=${env.registry}\nAUTHOR=idekube-it\nNAME=extra-ca\nBASE_IMAGE=${env.baseImage}\nGIT_TAG=${id}-${e.driver}\n`,
          'flavors/layers/probe.yaml': 'run: install.sh\n',
          'artifacts/layers/probe/install.sh': PROBE,
          'flavors/p/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nplatforms: [linux/amd64]\nlayers: [probe]\n',
        });
      });
      after(() => {
        removeImage(e, ref);
        cleanup(dir);
      });

      it('without certificates: the step sees no bundle and none of the variables', () => {
        const r = buildProbe(e, dir, ['--network', 'none', '--no-cache']);
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        assert.deepEqual(probeOf(e, ref), { bundle: 'unset', same: 'no', node: 'unset', certs: '0', 'node-certs': '0', apt: '0' });
      });

      it('with --extra-ca-certs: every tool is pointed at a bundle holding them (a tmpfs), the image holds none', () => {
        const file = bundle(`probe-${e.driver}`, ca1, false);
        const r = buildProbe(e, dir, ['--network', 'none', '--no-cache', '--extra-ca-certs', file]);
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        // the base image has no CA bundle of its own: the step's bundle is exactly the extra certificate
        assert.deepEqual(probeOf(e, ref), {
          bundle: '/run/idekube-tls/ca-certificates.crt',
          same: 'yes',
          node: '/run/secrets/idekube-ca',
          certs: '1',
          'node-certs': '1',
          apt: '1',
        });
        assert.deepEqual(filesHolding(e, ref, ca1.needle), [], 'the certificate is in no layer, config or history');
        // the search itself works: what the step wrote is found
        assert.ok(filesHolding(e, ref, 'bundle=/run/idekube-tls/ca-certificates.crt').length >= 1);
        assert.equal(runIn(e, ref, 'find /run/secrets /run/idekube-tls -type f 2>/dev/null | wc -l').trim(), '0');
      });

      it('other certificates: the same build, every step from the cache', () => {
        const file = bundle(`probe2-${e.driver}`, ca2, false);
        const r = buildProbe(e, dir, ['--network', 'none', '--extra-ca-certs', file]);
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        assert.deepEqual(statuses(r), ['p/base@linux/amd64:cached']);
      });

      it('bad input: a file without a certificate is exit 2 naming it, nothing built', () => {
        const file = join(work, 'not-a-cert.pem');
        writeFileSync(file, 'hello\n');
        const r = buildProbe(e, dir, ['--extra-ca-certs', file], { json: false });
        assert.equal(r.code, 2);
        assert.match(r.stderr, /extra CA certificates .*not-a-cert\.pem.*: no PEM certificate in it/);
      });
    });
  }

  for (const e of ENGINES) {
    describe(`the agent fixture (Claude Code from npm) with the host's CA bundle: ${e.driver} driver on ${e.name}`, () => {
      const fixture = mkdtempSync(join(work, 'agent-'));
      const tag = `ca-${id}-${e.driver}`;
      const ref = `${env.registry}/idekube-test/agent:agent-base-${tag}${e.suffix}`;
      let first: CliResult;
      before(() => {
        // the fixture shares the catalog's layers through links, which idekube refuses to follow: a copy without them
        cpSync(`${REPO_ROOT}/test/fixtures/agent`, fixture, { recursive: true, dereference: true });
        const t0 = Date.now();
        first = buildAgent(e, fixture, tag, bundle(`agent-${e.driver}`, ca1));
        process.stderr.write(
          `# agent fixture build with the host's CA bundle, ${e.driver} driver on ${e.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      });
      after(() => removeImage(e, ref));

      it('builds: npm reached the registry through the proxy', () => {
        assert.equal(first.code, 0, first.stderr.slice(-4000));
      });

      it('idekube test: the web terminal answers and runs claude --version and node --version', () => {
        const r = cli(e, [
          '-C',
          fixture,
          '--git-tag',
          tag,
          '--json',
          'test',
          'agent/base',
          '--platform',
          'linux/amd64',
          '--only',
          'nginx,terminal,command',
          '--timeout',
          '120',
        ]);
        const report = JSON.parse(r.stdout) as { images: Array<{ checks: Array<{ name: string; status: string; message: string }> }> };
        const checks = Object.fromEntries(report.images[0]!.checks.map((c) => [c.name, c]));
        for (const name of ['nginx', 'terminal', 'command node', 'command claude'])
          assert.equal(checks[name]?.status, 'pass', `${name}: ${checks[name]?.message}`);
        assert.match(checks['command claude']!.message, /typed `claude --version` → exit 0, "2\.0\.77 \(Claude Code\)"/);
        assert.equal(r.code, 0, r.stderr.slice(-2000));
      });

      it('the throwaway certificate that was in the bundle is nowhere in the image; npm left nothing behind', () => {
        assert.deepEqual(filesHolding(e, ref, ca1.needle), []);
        assert.equal(runIn(e, ref, 'command -v npm || echo none; ls /root/.npm 2>/dev/null | wc -l').trim(), 'none\n0');
      });

      it('other certificates: every step from the cache', () => {
        const r = buildAgent(e, fixture, tag, bundle(`agent2-${e.driver}`, ca2));
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        assert.deepEqual(statuses(r), ['agent/base@linux/amd64:cached']);
      });
    });
  }
});
