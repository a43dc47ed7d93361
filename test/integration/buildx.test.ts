/**
 * The buildx driver for real: `docker buildx bake` (buildx 0.29.1) on the current engine (dockerd 28.5.2 with the
 * containerd image store), pushing to the loopback registry. Every result is read back: lists from the registry,
 * files from containers of the pushed images. The fixture catalog is built cold once here; the docker driver's run
 * on the same engine (publish-current-engine.test.ts) reuses that engine's build cache.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/registry/client.js';
import { publishList } from '../../src/registry/manifest-list.js';
import { startCli } from '../helpers/cli-async.js';
import { runId, testEnv } from '../helpers/env.js';
import { cleanup, makeProject, runCli, type CliResult } from '../helpers/project.js';
import { FIXTURE, FIXTURE_PLATFORMS, FIXTURE_REPO } from '../helpers/fixture.js';
import { getManifest, listPlatforms } from '../helpers/registry.js';

const env = testEnv();

/** A BuildKit SBOM generator (docs/attestations/sbom-protocol.md in moby/buildkit): dpkg's packages as SPDX. */
const SCANNER = `#!/bin/sh
set -eu
root=$BUILDKIT_SCAN_SOURCE
out=$BUILDKIT_SCAN_DESTINATION/$(basename "$root").spdx.json
pkgs=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '\${Package} \${Version}\\n' |
  awk '{ printf "%s{\\"SPDXID\\":\\"SPDXRef-Package-%d\\",\\"name\\":\\"%s\\",\\"versionInfo\\":\\"%s\\",\\"downloadLocation\\":\\"NOASSERTION\\"}", (NR > 1 ? "," : ""), NR, $1, $2 }')
printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"idekube-test-scan","documentNamespace":"https://idekube.invalid/scan","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: idekube-test-scanner"]},"packages":[%s]}}\\n' "$pkgs" > "$out"
`;
const engine = env.current;
const fixture = FIXTURE;
const repo = FIXTURE_REPO;
const expected = FIXTURE_PLATFORMS;

function cli(args: string[], timeoutMs = 1_500_000): CliResult {
  return runCli(args, { env: { ...engine }, timeoutMs });
}

/** Runs `sh -c script` in a fresh container of `ref` on the current engine, pulled for `platform`. */
function inImage(ref: string, platform: string, script: string, pull = true): string {
  return execFileSync(
    'docker',
    ['run', '--rm', '--platform', platform, ...(pull ? ['--pull', 'always'] : []), '--entrypoint', 'sh', ref, '-c', script],
    {
      env: { ...process.env, ...engine },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    },
  );
}

describe('buildx bake publishes the fixture catalog on the current engine', { timeout: 2_400_000 }, () => {
  const tag = `bx-${runId()}`;
  const ref = (flavor: string) => `${env.registry}/${repo}:${flavor.replace('/', '-')}-${tag}`;
  let first: CliResult;
  let firstMs = 0;
  /** The whole fixture catalog, both platforms, with buildx: what CI's release job runs. */
  const publishAll = () =>
    cli(['-C', fixture, '--git-tag', tag, '--json', 'publish', '--all', '--driver', 'buildx', '--platform', 'linux/amd64,linux/arm64']);
  before(async () => {
    // a stale copy under the parent's tag: the plain Debian base, without any of web/base's files
    const perArch = [];
    for (const arch of ['amd64', 'arm64']) {
      const stale = `${env.registry}/${repo}:stale-${tag}-${arch}`;
      execFileSync('/usr/bin/docker', ['tag', `${env.baseImage}-${arch}`, stale], { timeout: 60_000 });
      execFileSync('/usr/bin/docker', ['push', stale], { timeout: 300_000, stdio: 'ignore' });
      execFileSync('/usr/bin/docker', ['rmi', stale], { timeout: 60_000, stdio: 'ignore' });
      perArch.push({ platform: `linux/${arch}`, ref: stale });
    }
    await publishList(new RegistryClient(env.registry), ref('web/base'), perArch);
    const t0 = Date.now();
    first = publishAll();
    firstMs = Date.now() - t0;
    process.stderr.write(`# buildx publish --all (cold or warm engine cache), both platforms: ${(firstMs / 1000).toFixed(1)} s\n`);
  });

  it('exits 0: every image published, every target built or cached', () => {
    assert.equal(first.code, 0, first.stderr.slice(-4000));
    const result = JSON.parse(first.stdout);
    assert.deepEqual(
      result.images.map((i: { flavor: string; status: string }) => `${i.flavor}:${i.status}`).sort(),
      Object.keys(expected)
        .sort()
        .map((f) => `${f}:published`),
    );
    assert.equal(result.targets.length, 6);
    for (const t of result.targets) assert.ok(t.status === 'built' || t.status === 'cached', `${t.id}: ${t.status}`);
  });

  it('every list in the registry has exactly the declared platforms, and the digest the result reports', async () => {
    const result = JSON.parse(first.stdout);
    const client = new RegistryClient(env.registry);
    for (const [flavor, platforms] of Object.entries(expected)) {
      const list = await getManifest(env.registry, repo, `${flavor.replace('/', '-')}-${tag}`);
      assert.ok(list, `${flavor}: list exists`);
      assert.deepEqual(listPlatforms(list), platforms, flavor);
      const served = await client.getManifest(repo, `${flavor.replace('/', '-')}-${tag}`);
      const reported = result.images.find((i: { flavor: string }) => i.flavor === flavor).digest;
      assert.match(reported, /^sha256:[0-9a-f]{64}$/);
      assert.equal(reported, served!.digest, `${flavor}: reported digest is what the registry serves`);
    }
  });

  for (const [child, platform] of [
    ['web/extra', 'linux/amd64'],
    ['web/extra', 'linux/arm64'],
    ['web/jupyter', 'linux/amd64'],
  ] as const) {
    it(`${child} on ${platform} has its parent's files as just built, not the stale copy in the registry`, () => {
      const out = inImage(
        ref(child),
        platform,
        'uname -m; cat /etc/idekube/flavor.json; test -x /startup.sh && id -u idekube && echo parent-ok',
      );
      assert.equal(out.split('\n')[0], platform === 'linux/amd64' ? 'x86_64' : 'aarch64');
      assert.match(out, /"lineage": \[\s*"web\/base",/);
      assert.match(out, /parent-ok/);
    });
  }

  it('progress streams per target and platform while bake runs, each with its own time', () => {
    const r = cli([
      '-C',
      fixture,
      '--git-tag',
      tag,
      'publish',
      'web/extra',
      '--progress',
      'json',
      '--driver',
      'buildx',
      '--platform',
      'linux/amd64,linux/arm64',
    ]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; target?: string; status?: string; durationMs?: number });
    const ends = events.filter((e) => e.type === 'target-end');
    assert.deepEqual(ends.map((e) => e.target).sort(), [
      'web/base@linux/amd64',
      'web/base@linux/arm64',
      'web/extra@linux/amd64',
      'web/extra@linux/arm64',
    ]);
    assert.ok(
      events.some((e) => e.type === 'step' && e.target === 'web/extra@linux/arm64'),
      'steps reported for the child on arm64',
    );
    // nothing changed since the first run: the second run rebuilds nothing
    for (const e of ends) assert.equal(e.status, 'cached', `${e.target} was rebuilt`);
  });

  it('a second publish of everything with nothing changed rebuilds nothing', () => {
    const second = publishAll();
    assert.equal(second.code, 0, second.stderr.slice(-3000));
    const result = JSON.parse(second.stdout);
    for (const t of result.targets) {
      assert.equal(t.status, 'cached', `${t.id} was rebuilt: ${JSON.stringify(t.ran)}`);
      assert.equal(t.executed, 0);
    }
  });
});

describe('buildx driver: the cases a real buildx shows', { timeout: 1_200_000 }, () => {
  const id = runId();
  let dir: string;
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((_req, res) => res.end(`served-${id}\n`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    dir = makeProject({
      '.dockerargs': `REGISTRY=${env.registry}\nAUTHOR=idekube-it\nNAME=bx\nBASE_IMAGE=${env.baseImage}\nRUN_ID=\nSLEEP=0\n`,
      'flavors/layers/stamp.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n  TEXT: "plain"\n',
      'artifacts/layers/stamp/install.sh':
        '#!/usr/bin/env bash\nset -euo pipefail\nuname -m > /stamp\nprintf "%s\\n" "$RUN_ID" "$TEXT" >> /stamp\n',
      'flavors/layers/child.yaml': 'run: install.sh\nargs:\n  SLEEP: "0"\n  FETCH: ""\n',
      'artifacts/layers/child/install.sh':
        '#!/usr/bin/env bash\nset -euo pipefail\ncp /stamp /child-saw-parent\nsleep "$SLEEP"\nif [ -n "$FETCH" ]; then exec 3<>"/dev/tcp/127.0.0.1/$FETCH"; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3 > /fetched; fi\n',
      'flavors/b/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [stamp]\n',
      'flavors/b/child/flavor.yaml': 'from:\n  parent: b/base\nlayers: [child]\n',
    });
  });
  after(() => {
    server.close();
    cleanup(dir);
  });

  it('docker.io (the default registry), no network to it: the child takes its parent from the bake target', () => {
    const tag = `io-${id}`;
    const r = cli(
      [
        '-C',
        dir,
        '--git-tag',
        tag,
        '--registry',
        'docker.io',
        '--author',
        'idekube-it',
        '--set',
        `RUN_ID=${id}`,
        'build',
        'b/child',
        '--driver',
        'buildx',
        '--load',
        '--platform',
        'linux/amd64',
        '--progress',
        'plain',
      ],
      600_000,
    );
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const out = inImage(`idekube-it/bx:b-child-${tag}`, 'linux/amd64', 'cat /child-saw-parent', false);
    assert.deepEqual(out.trim().split('\n'), ['x86_64', id, 'plain']);
  });

  it('--arch-only pushes per-arch tags only; idekube manifest then joins them', async () => {
    const tag = `ao-${id}`;
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const r = cli(
        [
          '-C',
          dir,
          '--git-tag',
          tag,
          '--set',
          `RUN_ID=${id}`,
          '--json',
          'publish',
          'b/child',
          '--arch-only',
          '--driver',
          'buildx',
          '--platform',
          platform,
        ],
        900_000,
      );
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      const arch = platform.split('/')[1];
      for (const f of ['b-base', 'b-child'])
        assert.ok(await getManifest(env.registry, 'idekube-it/bx', `${f}-${tag}-${arch}`), `${f}-${tag}-${arch} pushed`);
      assert.equal(
        await getManifest(env.registry, 'idekube-it/bx', `b-child-${tag}`),
        undefined,
        'no multi-arch tag from an --arch-only run',
      );
      const result = JSON.parse(r.stdout);
      for (const t of result.targets) assert.match(t.digest ?? '', /^sha256:/, `${t.id} has the digest the registry serves`);
    }
    const m = runCli(['-C', dir, '--git-tag', tag, '--json', 'manifest', 'b/child', '--platform', 'linux/amd64,linux/arm64'], {
      timeoutMs: 120_000,
    });
    assert.equal(m.code, 0, m.stderr);
    const list = await getManifest(env.registry, 'idekube-it/bx', `b-child-${tag}`);
    assert.ok(list);
    assert.deepEqual(listPlatforms(list), ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(inImage(`${env.registry}/idekube-it/bx:b-child-${tag}`, 'linux/arm64', 'cat /child-saw-parent').trim().split('\n'), [
      'aarch64',
      id,
      'plain',
    ]);
  });

  it('a value with ${X} or %{…} reaches the image literally', () => {
    const tag = `tpl-${id}`;
    const text = 'Etc/${UTC} and %{if x}y%{endif}';
    const r = cli(
      [
        '-C',
        dir,
        '--git-tag',
        tag,
        '--set',
        `RUN_ID=${id}`,
        '--set',
        `TEXT=${text}`,
        'build',
        'b/base',
        '--driver',
        'buildx',
        '--load',
        '--platform',
        'linux/amd64',
        '--progress',
        'plain',
      ],
      600_000,
    );
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(inImage(`${env.registry}/idekube-it/bx:b-base-${tag}`, 'linux/amd64', 'tail -n1 /stamp', false).trim(), text);
  });

  it('--network host reaches the build host loopback; none cannot', async () => {
    const tag = `net-${id}`;
    // the loopback server lives in this process: the CLI runs beside it, not in a blocking spawnSync
    const build = async (network: string, gitTag: string) => {
      const run = startCli(
        [
          '-C',
          dir,
          '--git-tag',
          gitTag,
          '--set',
          `RUN_ID=${id}`,
          '--set',
          `FETCH=${port}`,
          'build',
          'b/child',
          '--driver',
          'buildx',
          '--load',
          '--network',
          network,
          '--platform',
          'linux/amd64',
          '--progress',
          'plain',
        ],
        { ...engine },
      );
      const { code } = await run.exit(600_000);
      return { code, out: run.stdout() + run.stderr() };
    };
    const host = await build('host', tag);
    assert.equal(host.code, 0, host.out.slice(-3000));
    assert.match(inImage(`${env.registry}/idekube-it/bx:b-child-${tag}`, 'linux/amd64', 'cat /fetched', false), new RegExp(`served-${id}`));
    const none = await build('none', `${tag}n`);
    assert.equal(none.code, 1, none.out.slice(-3000));
    assert.match(none.out, /b\/child@linux\/amd64/);
    assert.match(none.out, /refused|unreachable|connect/i);
  });

  it('--attest: the pushed list carries SBOM and provenance attestations (SBOM from --sbom-generator)', async () => {
    // Docker Hub's syft scanner is out of reach here: a small scanner that follows BuildKit's SBOM generator protocol
    // (the dpkg database of the scanned root as an SPDX document in an in-toto statement), pushed to the registry
    const scanner = `${env.registry}/idekube-test/sbom-scanner:${id}`;
    const ctx = mkdtempSync(join(tmpdir(), 'idekube-scanner-'));
    writeFileSync(join(ctx, 'scan'), SCANNER, { mode: 0o755 });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${env.baseImage}\nCOPY scan /usr/local/bin/scan\nENTRYPOINT ["/usr/local/bin/scan"]\n`);
    execFileSync('docker', ['buildx', 'build', '--quiet', '--platform', 'linux/amd64,linux/arm64', '--push', '-t', scanner, ctx], {
      env: { ...process.env, ...engine },
      stdio: 'ignore',
      timeout: 300_000,
    });
    rmSync(ctx, { recursive: true, force: true });
    const tag = `att-${id}`;
    const r = cli(
      [
        '-C',
        dir,
        '--git-tag',
        tag,
        '--set',
        `RUN_ID=${id}`,
        '--json',
        'publish',
        'b/base',
        '--driver',
        'buildx',
        '--attest',
        '--sbom-generator',
        scanner,
        '--platform',
        'linux/amd64,linux/arm64',
      ],
      900_000,
    );
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const list = await getManifest(env.registry, 'idekube-it/bx', `b-base-${tag}`);
    assert.ok(list);
    const attestations = list.json.manifests.filter(
      (e: { annotations?: Record<string, string> }) => e.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
    );
    assert.equal(attestations.length, 2, 'one attestation manifest per platform');
    const client = new RegistryClient(env.registry);
    const att = await client.getManifest('idekube-it/bx', attestations[0].digest);
    const layers = att!.json.layers as Array<{ digest: string; annotations: Record<string, string> }>;
    const kinds = layers.map((l) => l.annotations['in-toto.io/predicate-type'] ?? '').sort();
    assert.ok(
      kinds.includes('https://slsa.dev/provenance/v0.2') || kinds.some((k) => /slsa\.dev\/provenance/.test(k)),
      `provenance among ${kinds}`,
    );
    const spdx = layers.find((l) => l.annotations['in-toto.io/predicate-type'] === 'https://spdx.dev/Document');
    assert.ok(spdx, `SBOM among ${kinds}`);
    const statement = await client.getBlobJson<{ predicate: { packages: Array<{ name: string }> } }>('idekube-it/bx', spdx.digest);
    assert.ok(
      statement.predicate.packages.some((p) => p.name === 'bash'),
      'the SBOM lists the packages of the built image',
    );
    // --sbom-generator without --attest, or with something that is not a reference, is bad input
    assert.equal(cli(['-C', dir, 'publish', 'b/base', '--driver', 'buildx', '--sbom-generator', scanner, '--dry-run'], 60_000).code, 2);
    assert.equal(
      cli(['-C', dir, 'publish', 'b/base', '--driver', 'buildx', '--attest', '--sbom-generator', 'x,generator=y', '--dry-run'], 60_000)
        .code,
      2,
    );
  });

  it('Ctrl-C mid-bake: exit 130, no digest reported, the stale metadata of an earlier run not read', async () => {
    const tag = `int-${id}`;
    writeFileSync(
      join(dir, '.idekube/bake-metadata.json'),
      JSON.stringify({ 'b-child': { 'containerimage.digest': `sha256:${'e'.repeat(64)}` } }),
    );
    const run = startCli(
      [
        '-C',
        dir,
        '--git-tag',
        tag,
        '--set',
        `RUN_ID=${id}`,
        '--set',
        'SLEEP=120',
        'publish',
        'b/child',
        '--progress',
        'json',
        '--driver',
        'buildx',
        '--platform',
        'linux/amd64,linux/arm64',
      ],
      { ...engine },
    );
    await run.waitFor(/"type":"step","target":"b\/child@linux\/amd64"[^\n]*install\.sh/, 300_000);
    run.child.kill('SIGINT');
    const done = await run.exit(60_000);
    assert.equal(done.code, 130, run.stderr());
    const resultLine = run
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e: { type: string }) => e.type === 'result');
    assert.ok(resultLine, 'a result line');
    assert.equal(resultLine.cancelled, true);
    assert.ok(!/e{64}/.test(run.stdout()), 'the stale digest is not reported');
    for (const i of resultLine.images) assert.equal(i.digest, undefined);
    assert.ok(!existsSync(join(dir, '.idekube/bake-metadata.json')), 'the stale metadata file was removed before bake ran');
  });
});

describe('driver choice from the real builder', { timeout: 300_000 }, () => {
  const noStore = { DOCKER_CONFIG: engine.DOCKER_CONFIG, PATH: engine.PATH }; // buildx 0.29 against bookworm's dockerd 20.10
  const both = ['--platform', 'linux/amd64,linux/arm64'];
  it('the current engine (containerd store): auto takes buildx', () => {
    const r = cli(['-C', fixture, '--json', 'plan', 'web/extra', ...both], 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).driver, 'buildx');
  });
  it('buildx on an engine without the containerd store: auto falls back to the docker driver and says why', () => {
    const r = runCli(['-C', fixture, '--json', 'plan', 'web/extra', ...both], { env: noStore, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.driver, 'docker');
    assert.ok(
      plan.notes.some((n: string) =>
        /driver docker, not buildx: builder \S+ \(driver docker\) cannot build (and push )?linux\/amd64 and linux\/arm64 in one image without the containerd image store/.test(
          n,
        ),
      ),
      plan.notes.join('\n'),
    );
    // one platform per image is within that builder's reach
    assert.equal(
      JSON.parse(
        runCli(['-C', fixture, '--json', 'plan', 'web/extra', '--platform', 'linux/amd64'], { env: noStore, timeoutMs: 60_000 }).stdout,
      ).driver,
      'buildx',
    );
  });
  it('--driver buildx for a plan that builder cannot carry out: exit 2 with the reason and the fix, nothing built', () => {
    const r = runCli(['-C', fixture, 'build', 'web/extra', '--driver', 'buildx', ...both], { env: noStore, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /--driver buildx cannot carry out this plan:\n\s+builder \S+ \(driver docker\) cannot build linux\/amd64 and linux\/arm64 in one image without the containerd image store: turn it on/,
    );
    assert.ok(!/\bbuilding\b/.test(r.stdout + r.stderr));
  });
  it('doctor reports the buildx version and what the builder can do', () => {
    assert.match(
      cli(['-C', fixture, 'doctor'], 60_000).stdout,
      /^✔ buildx\s+docker buildx 0\.29\.1; builder default \(driver docker, containerd image store; [^)]*linux\/arm64\)$/m,
    );
    assert.match(
      runCli(['-C', fixture, 'doctor'], { env: noStore, timeoutMs: 60_000 }).stdout,
      /^✔ buildx\s+docker buildx 0\.29\.1; builder default \(driver docker, classic image store: one platform per image/m,
    );
  });
  it('a builder that does not exist: --driver buildx exits 2 naming it', () => {
    const r = cli(
      ['-C', fixture, 'build', 'web/base', '--driver', 'buildx', '--builder', 'no-such-builder', '--platform', 'linux/amd64'],
      60_000,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no-such-builder/);
  });
});
