/** The buildx builder: `docker buildx inspect` and `docker info` parsing (fixtures), and the pure plan-vs-builder check. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  builderProblems,
  needsOfPlan,
  normalizePlatform,
  parseDriverStatus,
  parseInspect,
  type BuilderFacts,
  type PlanNeeds,
} from '../../src/drivers/buildx-builder.js';
import type { Plan } from '../../src/plan/types.js';
import { REPO_ROOT } from '../helpers/project.js';

const fixture = (name: string): string => readFileSync(join(REPO_ROOT, 'test/fixtures/buildx-probe', name), 'utf8');
const AMD = 'linux/amd64';
const ARM = 'linux/arm64';

describe('docker buildx inspect parsing', () => {
  it('docker driver, dockerd 28 (real output): name, driver, endpoint, platforms', () => {
    const b = parseInspect(fixture('inspect-docker-default.txt'))!;
    assert.equal(b.name, 'default');
    assert.equal(b.driver, 'docker');
    assert.equal(b.error, undefined);
    assert.deepEqual(b.nodes, [
      {
        name: 'default',
        endpoint: 'default',
        status: 'running',
        platforms: [AMD, 'linux/amd64/v2', 'linux/amd64/v3', 'linux/amd64/v4', ARM],
      },
    ]);
    assert.deepEqual(b.platforms, [AMD, 'linux/amd64/v2', 'linux/amd64/v3', 'linux/amd64/v4', ARM]);
  });
  it('docker-container, never booted, user-set platforms (real output): the * marks are dropped', () => {
    const b = parseInspect(fixture('inspect-docker-container-inactive.txt'))!;
    assert.equal(b.driver, 'docker-container');
    assert.equal(b.nodes[0]!.name, 'idk-probe0');
    assert.equal(b.nodes[0]!.status, 'inactive');
    assert.equal(b.nodes[0]!.endpoint, 'unix:///run/idekube-test-engine/docker.sock');
    assert.deepEqual(b.platforms, [AMD, ARM]);
  });
  it('docker-container, never booted, no options (real output): no platforms listed', () => {
    const b = parseInspect(fixture('inspect-docker-container-unbooted.txt'))!;
    assert.equal(b.name, 'idk-plain');
    assert.deepEqual(b.platforms, []);
  });
  it('docker-container, running with emulators: every platform, labels and GC rules ignored', () => {
    const b = parseInspect(fixture('inspect-docker-container-running.txt'))!;
    assert.equal(b.nodes.length, 1);
    assert.equal(b.platforms.length, 13);
    assert.ok(b.platforms.includes(ARM) && b.platforms.includes('linux/arm/v7'));
  });
  it('kubernetes, two nodes: union of their platforms, first seen first', () => {
    const b = parseInspect(fixture('inspect-kubernetes-two-nodes.txt'))!;
    assert.equal(b.driver, 'kubernetes');
    assert.deepEqual(
      b.nodes.map((n) => n.name),
      ['builder-amd64', 'builder-arm64'],
    );
    assert.equal(b.nodes[1]!.endpoint, 'kubernetes:///kube?deployment=builder-arm64&kubeconfig=');
    assert.deepEqual(b.platforms, [AMD, 'linux/amd64/v2', 'linux/amd64/v3', 'linux/386', ARM, 'linux/arm/v7', 'linux/arm/v6']);
  });
  it('errors of the builder and of a node are kept', () => {
    const b = parseInspect('Name:   remote1\nDriver: remote\nError:  connection refused\n')!;
    assert.equal(b.error, 'connection refused');
    const n = parseInspect(
      'Name:   r\nDriver: remote\n\nNodes:\nName:     r0\nEndpoint: tcp://10.0.0.9:1234\nError:    context deadline exceeded\n',
    )!;
    assert.deepEqual(n.nodes, [{ name: 'r0', endpoint: 'tcp://10.0.0.9:1234', error: 'context deadline exceeded', platforms: [] }]);
  });
  it('something else is not a builder', () => {
    assert.equal(parseInspect(''), undefined);
    assert.equal(parseInspect('ERROR: no builder "nope" found\n'), undefined);
  });
  it('platform spellings', () => {
    assert.equal(normalizePlatform(' linux/arm64* '), ARM);
    assert.equal(normalizePlatform('linux/arm64/v8'), ARM);
    assert.equal(normalizePlatform('linux/arm'), 'linux/arm/v7');
  });
});

describe('docker info DriverStatus', () => {
  it('dockerd 28 with the containerd image store (real output)', () => {
    assert.equal(parseDriverStatus(fixture('info-driverstatus-containerd.json')), true);
  });
  it('dockerd 20.10 with overlay2 (real output)', () => {
    assert.equal(parseDriverStatus(fixture('info-driverstatus-overlay2.json')), false);
  });
  it('not JSON, or not a list: unknown', () => {
    assert.equal(parseDriverStatus('Cannot connect to the Docker daemon'), undefined);
    assert.equal(parseDriverStatus('{"a":1}'), undefined);
  });
});

const CONTAINER: BuilderFacts = { name: 'ci', version: '0.29.1', driver: 'docker-container', platforms: [AMD, ARM] };
const DOCKER_CLASSIC: BuilderFacts = {
  name: 'default',
  version: '0.29.1',
  driver: 'docker',
  platforms: [AMD, ARM],
  containerdStore: false,
};
const DOCKER_CONTAINERD: BuilderFacts = { ...DOCKER_CLASSIC, containerdStore: true };
const ONE: PlanNeeds = {
  platformsPerImage: [[AMD]],
  platforms: [AMD],
  push: false,
  load: false,
  registryCacheExport: false,
  attest: false,
  network: 'default',
};
const TWO: PlanNeeds = { ...ONE, platformsPerImage: [[AMD, ARM], [AMD]], platforms: [AMD, ARM] };

function one(problems: string[], re: RegExp): void {
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, re);
}

describe('can the builder carry out the plan', () => {
  it('a new enough docker-container builder with the platforms: nothing to say', () => {
    assert.deepEqual(builderProblems(CONTAINER, { ...TWO, push: true, registryCacheExport: true, attest: true, network: 'host' }), []);
  });
  it('buildx older than 0.13.0', () => {
    one(
      builderProblems({ ...CONTAINER, version: '0.12.1' }, ONE),
      /^docker buildx 0\.12\.1 is older than 0\.13\.0, which idekube needs.*update the docker-buildx plugin/,
    );
    assert.deepEqual(builderProblems({ ...CONTAINER, version: '0.13.0' }, ONE), []);
  });
  it('a RUN network other than default needs 0.17.0', () => {
    one(
      builderProblems({ ...CONTAINER, version: '0.16.2' }, { ...ONE, network: 'host' }),
      /cannot give RUN steps --network host: bake needs 0\.17\.0.*--network default/,
    );
    one(builderProblems({ ...CONTAINER, version: '0.16.2' }, { ...ONE, network: 'none' }), /--network none/);
    assert.deepEqual(builderProblems({ ...CONTAINER, version: '0.16.2' }, ONE), []);
    assert.deepEqual(builderProblems({ ...CONTAINER, version: '0.17.0' }, { ...ONE, network: 'host' }), []);
  });
  it('docker driver, classic store: no two platforms in one image', () => {
    one(
      builderProblems(DOCKER_CLASSIC, TWO),
      /^builder default \(driver docker\) cannot build linux\/amd64 and linux\/arm64 in one image without the containerd image store: turn it on \("features": \{"containerd-snapshotter": true\}.*docker-container builder, or --driver docker$/,
    );
    assert.deepEqual(builderProblems(DOCKER_CLASSIC, ONE), []);
    assert.deepEqual(builderProblems(DOCKER_CONTAINERD, TWO), []);
  });
  it('docker driver, classic store: no multi-platform push', () => {
    one(builderProblems(DOCKER_CLASSIC, { ...TWO, push: true }), /cannot build and push linux\/amd64 and linux\/arm64 in one image/);
    assert.deepEqual(builderProblems(DOCKER_CLASSIC, { ...ONE, push: true }), []);
    assert.deepEqual(builderProblems(DOCKER_CONTAINERD, { ...TWO, push: true }), []);
  });
  it('docker driver, classic store: no registry cache export', () => {
    one(
      builderProblems(DOCKER_CLASSIC, { ...ONE, push: true, registryCacheExport: true }),
      /cannot export a registry cache \(cache-to\) without the containerd image store.*--cache none/,
    );
    assert.deepEqual(builderProblems(DOCKER_CONTAINERD, { ...ONE, push: true, registryCacheExport: true }), []);
  });
  it('docker driver, classic store: no attestations', () => {
    one(
      builderProblems(DOCKER_CLASSIC, { ...ONE, attest: true }),
      /cannot add attestations without the containerd image store.*drop --attest/,
    );
    assert.deepEqual(builderProblems(DOCKER_CONTAINERD, { ...ONE, attest: true }), []);
  });
  it('docker driver whose store could not be asked counts as classic', () => {
    const { containerdStore: _, ...unknown } = DOCKER_CLASSIC;
    assert.equal(builderProblems(unknown, TWO).length, 1);
  });
  it('a platform the builder does not list', () => {
    one(
      builderProblems({ ...CONTAINER, platforms: [AMD, 'linux/386'] }, TWO),
      /^builder ci \(driver docker-container\) cannot build linux\/arm64: it lists only linux\/amd64, linux\/386: register emulation \(.*--install arm64\), add a node for it \(docker buildx create --append\) or leave it out \(--platform linux\/amd64\)$/,
    );
    // the docker driver has no nodes to add
    assert.doesNotMatch(builderProblems({ ...DOCKER_CONTAINERD, platforms: [AMD] }, TWO)[0]!, /--append/);
    // listed with a * (set by the user), or spelt linux/arm64/v8: still listed
    assert.deepEqual(builderProblems({ ...CONTAINER, platforms: ['linux/amd64*', 'linux/arm64/v8'] }, TWO), []);
    // a builder that lists nothing (not booted yet) may build anything
    assert.deepEqual(builderProblems({ ...CONTAINER, platforms: [] }, TWO), []);
  });
  it('--load of a multi-platform image needs the containerd store in the engine it loads into', () => {
    one(
      builderProblems(CONTAINER, { ...TWO, load: true }),
      /^builder ci \(driver docker-container\) cannot --load linux\/amd64 and linux\/arm64 as one image: the engine it loads into has to use the containerd image store.*--push.*--platform linux\/amd64\)$/,
    );
    one(builderProblems({ ...CONTAINER, containerdStore: false }, { ...TWO, load: true }), /cannot --load/);
    assert.deepEqual(builderProblems({ ...CONTAINER, containerdStore: true }, { ...TWO, load: true }), []);
    assert.deepEqual(builderProblems(CONTAINER, { ...ONE, load: true }), []);
    assert.deepEqual(builderProblems(DOCKER_CONTAINERD, { ...TWO, load: true }), []);
    // the docker driver without the store: said once, by the one-image rule
    one(builderProblems(DOCKER_CLASSIC, { ...TWO, load: true }), /cannot build linux\/amd64 and linux\/arm64 in one image/);
  });
  it('--load with attestations needs the containerd store too', () => {
    one(
      builderProblems({ ...CONTAINER, containerdStore: false }, { ...ONE, load: true, attest: true }),
      /cannot --load an image with attestations.*drop --attest/,
    );
    assert.deepEqual(builderProblems({ ...CONTAINER, containerdStore: true }, { ...ONE, load: true, attest: true }), []);
  });
  it('several problems: each is said', () => {
    const p = builderProblems(
      { ...DOCKER_CLASSIC, version: '0.16.0', platforms: [AMD] },
      { ...TWO, push: true, registryCacheExport: true, attest: true, network: 'host' },
    );
    assert.equal(p.length, 5, p.join('\n'));
  });
});

describe('what a plan needs', () => {
  const plan = (over: Partial<Plan>): Plan =>
    ({
      push: false,
      cache: 'none',
      network: 'default',
      platforms: [AMD, ARM],
      images: [
        { flavor: 'a/base', platforms: [AMD, ARM] },
        { flavor: 'a/child', platforms: [AMD] },
      ],
      ...over,
    }) as unknown as Plan;
  it('platforms per image and all of them', () => {
    const n = needsOfPlan(plan({}));
    assert.deepEqual(n.platformsPerImage, [[AMD, ARM], [AMD]]);
    assert.deepEqual(n.platforms, [AMD, ARM]);
    assert.deepEqual([n.push, n.load, n.registryCacheExport, n.attest, n.network], [false, false, false, false, 'default']);
  });
  it('the registry cache is exported only when pushing; --push wins over --load (as in bakeArgv)', () => {
    assert.equal(needsOfPlan(plan({ cache: 'registry' })).registryCacheExport, false);
    assert.equal(needsOfPlan(plan({ cache: 'registry', push: true })).registryCacheExport, true);
    assert.equal(needsOfPlan(plan({}), { load: true }).load, true);
    assert.equal(needsOfPlan(plan({ push: true }), { load: true }).load, false);
    assert.equal(needsOfPlan(plan({ network: 'host' }), { attest: true }).attest, true);
  });
});
