/**
 * `--extra-ca-certs` / IDEKUBE_EXTRA_CA_CERTS / `.dockerargs`: where the file comes from (flag > env > project file,
 * never a profile), what a bad one says (exit 2, nothing built), and what reaches the drivers: bake's `secret`, the
 * plan. The generated steps and their wrapper are the same with or without it. Builds for real: test/integration/
 * extra-ca.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runLayerScript } from '../../src/generate/extra-ca.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTEST\n-----END CERTIFICATE-----\n';
const dirs: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'idekube-ca-unit-'));
after(() => {
  for (const d of dirs) cleanup(d);
  rmSync(tmp, { recursive: true, force: true });
});

function project(dotArgs = '', extra: Record<string, string> = {}): string {
  const dir = makeProject(undefined, { '.dockerargs': `BASE_IMAGE=debian:bookworm\nTOOL_VERSION=1.0\n${dotArgs}`, ...extra });
  dirs.push(dir);
  return dir;
}

function dryRun(dir: string, args: string[], env: Record<string, string> = {}) {
  return runCli(
    [
      '-C',
      dir,
      '--git-tag',
      'v1.0.0',
      '--json',
      'build',
      'beta/base',
      '--platform',
      'linux/amd64',
      '--driver',
      'buildx',
      '--dry-run',
      ...args,
    ],
    { env },
  );
}

/** The --json error as the plain CLI prints it: `file:line: message` and `fix: …`. */
function errorOf(r: { stderr: string }): string {
  const e = (JSON.parse(r.stderr.trim().split('\n').pop()!) as { error: { message: string; file?: string; line?: number; fix?: string } })
    .error;
  return `${e.file ? `${e.file}${e.line ? `:${e.line}` : ''}: ` : ''}${e.message}${e.fix ? `\nfix: ${e.fix}` : ''}`;
}

describe('--extra-ca-certs: the option', () => {
  const pem = join(tmp, 'corp.pem');
  writeFileSync(pem, PEM + PEM);

  it('the flag: bake gets the secret, the plan says which file and how many certificates', () => {
    const r = dryRun(project(), ['--extra-ca-certs', pem]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { plan: { extraCaCerts: unknown }; bake: { target: Record<string, { secret?: string[] }> } };
    assert.deepEqual(out.plan.extraCaCerts, { path: pem, from: '--extra-ca-certs', certificates: 2 });
    assert.deepEqual(out.bake.target['beta-base']!.secret, [`id=idekube-ca,src=${pem}`]);
  });

  it('without it: no secret in bake; the generated steps mount the secret either way (one Dockerfile, one cache)', () => {
    const dir = project();
    const without = dryRun(dir, []);
    assert.equal(without.code, 0, without.stderr);
    const out = JSON.parse(without.stdout) as { plan: Record<string, unknown>; bake: { target: Record<string, Record<string, unknown>> } };
    assert.equal(out.plan.extraCaCerts, undefined);
    assert.equal(out.bake.target['beta-base']!.secret, undefined);
    // `generate` has no such option: the Dockerfile cannot depend on it
    assert.equal(runCli(['-C', dir, 'generate', 'beta/base', '-o', join(dir, 'out')]).code, 0);
    const a = readFileSync(join(dir, 'out/beta/base/Dockerfile'), 'utf8');
    assert.match(
      a,
      /--mount=type=secret,id=idekube-ca,target=\/run\/secrets\/idekube-ca \\\n {4}--mount=type=tmpfs,target=\/run\/idekube-tls \\\n {4}\["bash", "\/tmp\/idekube\/build\/run-layer\.sh", "\/tmp\/idekube\/layers\/base\/install\.sh"\]/,
    );
    assert.equal(readFileSync(join(dir, 'out/beta/base/build/run-layer.sh'), 'utf8'), runLayerScript());
  });

  it('precedence: flag over env over .dockerargs (a path relative to the project)', () => {
    writeFileSync(join(tmp, 'one.pem'), PEM);
    const dir = project('IDEKUBE_EXTRA_CA_CERTS=certs/project.pem\n', { 'certs/project.pem': PEM });
    const fromFile = JSON.parse(dryRun(dir, []).stdout).plan.extraCaCerts;
    assert.deepEqual(fromFile, { path: join(dir, 'certs/project.pem'), from: '.dockerargs:3', certificates: 1 });
    assert.equal(
      JSON.parse(dryRun(dir, [], { IDEKUBE_EXTRA_CA_CERTS: join(tmp, 'one.pem') }).stdout).plan.extraCaCerts.from,
      'env IDEKUBE_EXTRA_CA_CERTS',
    );
    assert.equal(
      JSON.parse(dryRun(dir, ['--extra-ca-certs', pem], { IDEKUBE_EXTRA_CA_CERTS: join(tmp, 'one.pem') }).stdout).plan.extraCaCerts.from,
      '--extra-ca-certs',
    );
  });

  it('bad input is exit 2 with the reason and a fix', () => {
    const dir = project();
    const cases: Array<[string, RegExp]> = [
      [join(tmp, 'missing.pem'), /extra CA certificates .*missing\.pem.* \(--extra-ca-certs\): no such file/],
      [tmp, /: not a regular file/],
    ];
    const notPem = join(tmp, 'key.txt');
    writeFileSync(notPem, 'not a certificate\n');
    cases.push([notPem, /: no PEM certificate in it/]);
    const comma = join(tmp, 'a,b.pem');
    writeFileSync(comma, PEM);
    cases.push([comma, /holds a comma, a quote or a line break/]);
    const big = join(tmp, 'big.pem');
    writeFileSync(big, PEM.repeat(Math.ceil((501 * 1024) / PEM.length)));
    cases.push([big, /\d+ bytes, more than the 500 KiB BuildKit takes as a secret/]);
    for (const [file, re] of cases) {
      const r = dryRun(dir, ['--extra-ca-certs', file]);
      assert.equal(r.code, 2, file);
      assert.match(errorOf(r), re);
      assert.match(errorOf(r), /\nfix: /);
    }
  });

  it('in .dockerargs: the error names the file and line', () => {
    const dir = project('IDEKUBE_EXTRA_CA_CERTS=nope.pem\n');
    const r = dryRun(dir, []);
    assert.equal(r.code, 2);
    assert.match(errorOf(r), /^\.dockerargs:3: extra CA certificates "nope\.pem": no such file/);
  });

  it('a profile may not set it (one set of certificates for a build of several lineups)', () => {
    const dir = project('', { '.dockerargs.corp': `IDEKUBE_EXTRA_CA_CERTS=${pem}\n` });
    const r = runCli([
      '-C',
      dir,
      '--profile',
      'corp',
      '--json',
      'build',
      'beta/base',
      '--platform',
      'linux/amd64',
      '--driver',
      'buildx',
      '--dry-run',
    ]);
    assert.equal(r.code, 2);
    assert.match(errorOf(r), /^\.dockerargs\.corp:1: IDEKUBE_EXTRA_CA_CERTS is project-wide and cannot be set in a profile/);
  });

  it('is not a build arg: no unread-key warning, not in the bake args', () => {
    const dir = project(`IDEKUBE_EXTRA_CA_CERTS=${pem}\n`);
    const r = dryRun(dir, []);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /IDEKUBE_EXTRA_CA_CERTS/);
    assert.equal(JSON.stringify(JSON.parse(r.stdout).bake.target['beta-base'].args).includes('IDEKUBE_EXTRA_CA_CERTS'), false);
  });
});

describe('run-layer.sh: the wrapper every layer step runs through', () => {
  const script = join(tmp, 'run-layer.sh');
  // the same script with its fixed paths moved into a scratch folder
  const run = (secret: string | undefined, systemBundle: string | undefined) => {
    const root = mkdtempSync(join(tmp, 'root-'));
    spawnSync('mkdir', ['-p', `${root}/secrets`, `${root}/tls`, `${root}/etc/ssl/certs`]);
    if (secret !== undefined) writeFileSync(`${root}/secrets/idekube-ca`, secret);
    if (systemBundle !== undefined) writeFileSync(`${root}/etc/ssl/certs/ca-certificates.crt`, systemBundle);
    writeFileSync(
      script,
      runLayerScript()
        .replaceAll('/run/secrets', `${root}/secrets`)
        .replaceAll('/run/idekube-tls', `${root}/tls`)
        .replaceAll('/etc/ssl/certs', `${root}/etc/ssl/certs`)
        .replaceAll('/etc/apt/apt.conf', `${root}/apt.conf`),
    );
    const probe = join(root, 'probe.sh');
    writeFileSync(
      probe,
      'echo "ssl=${SSL_CERT_FILE:-unset} node=${NODE_EXTRA_CA_CERTS:-unset} apt=${APT_CONFIG:-unset} args=$*"\n[ -n "${SSL_CERT_FILE:-}" ] && grep -c BEGIN "$SSL_CERT_FILE"; [ -n "${APT_CONFIG:-}" ] && cat "$APT_CONFIG"; exit 0\n',
    );
    const r = spawnSync('bash', [script, probe, 'a b'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    return { ...r, root };
  };
  it('without the secret: runs the script untouched, arguments kept', () => {
    const r = run(undefined, PEM);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ssl=unset node=unset apt=unset args=a b\n');
    assert.equal(r.stderr, '');
  });
  it('an empty secret counts as none', () => {
    assert.equal(run('', PEM).stdout, 'ssl=unset node=unset apt=unset args=a b\n');
  });
  it("with it: the image's CAs + the extra ones in the tmpfs bundle; apt, Node and the others pointed there", () => {
    const r = run(PEM, PEM + PEM);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `ssl=${r.root}/tls/ca-certificates.crt node=${r.root}/secrets/idekube-ca apt=${r.root}/tls/apt.conf args=a b\n3\nAcquire::https::CAInfo "${r.root}/tls/ca-certificates.crt";\n`,
    );
    assert.match(r.stderr, /idekube: extra CA certificates for this step \(1 from the build secret idekube-ca\)/);
  });
  it('an image without CAs yet: the bundle is the extra ones alone; an existing apt.conf is still read', () => {
    const r = run(PEM, undefined);
    writeFileSync(`${r.root}/apt.conf`, 'APT::Get::Assume-Yes "true";\n');
    const again = spawnSync('bash', [script, join(r.root, 'probe.sh')], { encoding: 'utf8' });
    assert.match(r.stdout, /\n1\n/);
    assert.match(again.stdout, new RegExp(`#include "${r.root}/apt.conf";`));
  });
});
