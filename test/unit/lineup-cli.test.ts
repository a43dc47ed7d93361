/**
 * Lineups and schemes through the real CLI, on a small project shaped like the production catalog (so other
 * changes to flavors/ do not move these expectations): what `--all` means per lineup, several lineups in one plan,
 * the exit-2 refusals, `idekube tags` output pinned by goldens under test/golden/tags/, and `list`, `generate`,
 * `test` and `config` with lineups (each lineup's flavors, platforms and profile; unchanged without one).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { testSubjects, parseTestFlags } from '../../src/cli/commands/test.js';
import { makeContext } from '../../src/cli/context.js';
import { takeWarnings } from '../../src/config/warnings.js';
import { nativePlatform } from '../../src/verify/subject.js';
import { BUILTIN_LINEUPS, lineupsOf } from '../../src/config/lineups.js';
import { bakeProgress } from '../../src/drivers/bake-progress.js';
import { loadProject } from '../../src/config/project.js';
import { cleanup, makeProject, REPO_ROOT, runCli, type Files } from '../helpers/project.js';
import { golden } from '../helpers/golden.js';

const root = (image: string) => `from:\n  image: ${image}\nlayers: [base]\n`;
const child = (parent: string, extra = '') => `from:\n  parent: ${parent}\n${extra}layers: [tool]\n`;
const FILES: Files = {
  '.dockerargs': 'BASE_IMAGE=ubuntu:24.04\n',
  '.dockerargs.ascend': 'BASE_IMAGE=ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11\nTAG_POSTFIX=-ascend\nIDEKUBE_LINEUP=ascend\n',
  'flavors/layers/base.yaml': 'run: install.sh\n',
  'artifacts/layers/base/install.sh': '#!/usr/bin/env bash\n',
  'flavors/layers/tool.yaml': 'run: install.sh\n',
  'artifacts/layers/tool/install.sh': '#!/usr/bin/env bash\n',
  'flavors/featured/base/flavor.yaml': root('${BASE_IMAGE}'),
  'flavors/featured/speit/flavor.yaml': child('featured/base'),
  'flavors/featured/speit-ai/flavor.yaml': child('featured/base'),
  'flavors/featured/speit-ascendai/flavor.yaml': child('featured/base'),
  'flavors/featured/dind/flavor.yaml': child('featured/base'),
  'flavors/featured/ros2/flavor.yaml': child('featured/base'),
  'flavors/featured/isaac/flavor.yaml': child('featured/base', 'platforms: [linux/amd64]\n'),
  'flavors/coder/base/flavor.yaml': root('${BASE_IMAGE}'),
  'flavors/coder/lite/flavor.yaml': root('${BASE_IMAGE}'),
  'flavors/jupyter/base/flavor.yaml': root('${BASE_IMAGE}'),
  'flavors/jupyter/speit/flavor.yaml': child('jupyter/base'),
  'flavors/jupyter/speit-ai/flavor.yaml': child('jupyter/base'),
  'flavors/jupyter/speit-ascendai/flavor.yaml': child('jupyter/base'),
};

const dir = makeProject(FILES);
after(() => cleanup(dir));
const cli = (args: string[], env: Record<string, string> = {}) => runCli(['-C', dir, '--git-tag', 'v1.2.3', ...args], { env });
const json = (args: string[], env: Record<string, string> = {}) => {
  const r = cli([...args, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};
type PlanJson = {
  images: Array<{ flavor: string; id?: string; lineup?: string; ref: string; platforms: string[]; targets: string[] }>;
  targets: Array<{ id: string; flavor: string; dependsOn: string[]; buildArgs: Record<string, string> }>;
  lineups?: Array<{ name: string }>;
  profile: string | null;
};
const selected = (plan: PlanJson) => plan.images.map((i) => i.id ?? i.flavor);

describe('built-in lineups', () => {
  it("v0.4's BRANCHES and BRANCHES_ASCEND, amd64 + arm64", () => {
    const [base, ascend] = lineupsOf('v0.4');
    assert.deepEqual(base!.flavors, [
      'featured/base',
      'featured/speit',
      'featured/dind',
      'featured/ros2',
      'coder/base',
      'coder/lite',
      'jupyter/base',
      'jupyter/speit',
    ]);
    assert.deepEqual(ascend!.flavors, ['featured/base', 'featured/speit-ascendai', 'jupyter/base', 'jupyter/speit-ascendai']);
    assert.equal(ascend!.profile, 'ascend');
    for (const l of [base!, ascend!]) assert.deepEqual(l.platforms, ['linux/amd64', 'linux/arm64']);
  });
  it("v0.8's universal (both platforms) and ascend (arm64 only, profile ascend)", () => {
    const [universal, ascend] = lineupsOf('v0.8');
    assert.deepEqual(universal!.platforms, ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(ascend!.flavors, ['featured/base', 'featured/speit-ai', 'jupyter/base', 'jupyter/speit-ai']);
    assert.deepEqual(ascend!.platforms, ['linux/arm64']);
    assert.equal(ascend!.profile, 'ascend');
  });
  it('featured/isaac is in no lineup; every flavor named is in the production catalog or known as not there yet', () => {
    const notYet = new Set(['featured/speit-ai', 'featured/kathara', 'coder/conda', 'jupyter/speit-ai', 'agent/base']);
    const catalog = loadProject({ dir: REPO_ROOT, sets: [], flags: { GIT_TAG: 'v0.0.0' }, env: {} }).catalog;
    for (const l of BUILTIN_LINEUPS) {
      assert.ok(!l.flavors.includes('featured/isaac'), l.name);
      for (const id of l.flavors) assert.ok(catalog.flavors.has(id) || notYet.has(id), `${l.scheme} ${l.name}: ${id}`);
    }
  });
});

describe('--all and lineups', () => {
  it('without a lineup, --all is every flavor, isaac included (unchanged)', () => {
    const t = json(['tags', '--all']);
    assert.equal(t.flavors.length, 13);
    assert.ok(t.flavors.some((f: { flavor: string }) => f.flavor === 'featured/isaac'));
  });
  it('--profile ascend --all plans exactly the Ascend list of v0.4 (the profile names its lineup), ids unchanged', () => {
    const plan: PlanJson = json(['--profile', 'ascend', 'plan', '--all']);
    assert.deepEqual(selected(plan).sort(), ['featured/base', 'featured/speit-ascendai', 'jupyter/base', 'jupyter/speit-ascendai']);
    assert.ok(plan.targets.some((t) => t.id === 'featured/base@linux/amd64'));
    assert.equal(plan.profile, 'ascend');
  });
  for (const how of [
    ['--profile', 'ascend'],
    ['--lineup', 'ascend'],
  ]) {
    it(`v0.8 ${how.join(' ')} --all: the Ascend list (arm64 only) as far as the catalog has it; publishable`, () => {
      const plan: PlanJson = json(['--scheme', 'v0.8', ...how, 'plan', '--all']);
      assert.deepEqual(selected(plan).sort(), ['featured/base', 'featured/speit-ai', 'jupyter/base', 'jupyter/speit-ai']);
      for (const i of plan.images) assert.deepEqual(i.platforms, ['linux/arm64']);
      assert.equal(
        plan.images.find((i) => i.flavor === 'jupyter/speit-ai')!.ref,
        'docker.io/davidliyutong/idekube-container-jupyter:speit-ai-v1.2.3-ascend',
      );
      assert.equal(cli(['--scheme', 'v0.8', ...how, 'publish', '--all', '--dry-run']).code, 0);
    });
  }
  it('env IDEKUBE_LINEUP and IDEKUBE_SCHEME select as the flags do', () => {
    const byEnv: PlanJson = json(['plan', '--all'], { IDEKUBE_LINEUP: 'ascend', IDEKUBE_SCHEME: 'v0.8' });
    const byFlags: PlanJson = json(['--lineup', 'ascend', '--scheme', 'v0.8', 'plan', '--all']);
    assert.deepEqual(byEnv.images, byFlags.images);
    assert.deepEqual(
      byEnv.images.map((i) => i.platforms),
      [['linux/arm64'], ['linux/arm64'], ['linux/arm64'], ['linux/arm64']],
    );
  });
  it('a lineup flavor the catalog lacks is a note, never an error', () => {
    const r = cli(['--scheme', 'v0.8', '--lineup', 'universal', 'plan', '--all']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /note: lineup universal \(v0\.8\) names featured\/kathara, coder\/conda, agent\/base: not in this catalog yet, skipped/,
    );
  });
  it("a flavor outside the lineup builds when named, with its lineup's profile", () => {
    const plan: PlanJson = json(['--lineup', 'base', 'plan', 'featured/isaac']);
    assert.deepEqual(selected(plan), ['featured/base', 'featured/isaac']);
    assert.deepEqual(plan.images[1]!.platforms, ['linux/amd64']);
  });
});

describe('several lineups make one plan', () => {
  const plan: PlanJson = json(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'plan', '--all']);
  it('the same flavor side by side, each with its own base, postfix and platforms; ids carry the lineup', () => {
    assert.deepEqual(
      plan.lineups!.map((l) => l.name),
      ['universal', 'ascend'],
    );
    const universal = plan.images.find((i) => i.id === 'universal:featured/base')!;
    const ascend = plan.images.find((i) => i.id === 'ascend:featured/base')!;
    assert.deepEqual(universal.platforms, ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(ascend.platforms, ['linux/arm64']);
    assert.equal(ascend.ref, 'docker.io/davidliyutong/idekube-container-featured-base:v1.2.3-ascend');
    const target = (id: string) => plan.targets.find((t) => t.id === id)!;
    assert.equal(target('universal:featured/base@linux/arm64').buildArgs.BASE_IMAGE, 'ubuntu:24.04');
    assert.equal(target('ascend:featured/base@linux/arm64').buildArgs.BASE_IMAGE, 'ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11');
    assert.deepEqual(target('ascend:featured/speit-ai@linux/arm64').dependsOn, ['ascend:featured/base@linux/arm64']);
    assert.equal(
      target('ascend:featured/speit-ai@linux/arm64').buildArgs.IDEKUBE_PARENT,
      'docker.io/davidliyutong/idekube-container-featured-base:v1.2.3-ascend-arm64',
    );
    assert.ok(!plan.targets.some((t) => t.id.startsWith('ascend:') && t.id.endsWith('amd64')));
  });
  it("one bake file: lineup-named targets, each child on its own lineup's parent", () => {
    const r = json(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'build', '--all', '--dry-run', '--driver', 'buildx']);
    const targets = r.bake.target as Record<string, { platforms: string[]; contexts?: Record<string, string>; tags: string[] }>;
    assert.deepEqual(targets['featured-base-ascend']!.platforms, ['linux/arm64']);
    assert.deepEqual(targets['featured-base-universal']!.platforms, ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(targets['featured-speit-ai-ascend']!.contexts, {
      'davidliyutong/idekube-container-featured-base:v1.2.3-ascend': 'target:featured-base-ascend',
    });
    assert.deepEqual(targets['featured-speit-ai-universal']!.contexts, {
      'davidliyutong/idekube-container-featured-base:v1.2.3': 'target:featured-base-universal',
    });
  });
  it('bake progress reports the lineup-qualified target ids', () => {
    const events: Array<{ type: string; target?: string }> = [];
    const progress = bakeProgress(
      [{ bakeName: 'featured-base-ascend', flavor: 'featured/base', key: 'ascend:featured/base', platforms: ['linux/arm64'] }],
      (e) => events.push(e as { type: string; target?: string }),
    );
    const results = progress.finish({ ok: true, cancelled: false });
    assert.deepEqual(
      results.map((r) => r.id),
      ['ascend:featured/base@linux/arm64'],
    );
    assert.ok(events.some((e) => e.type === 'target-end' && e.target === 'ascend:featured/base@linux/arm64'));
  });
  it('--platform within the union: a lineup without it is skipped with a note', () => {
    const r = cli(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'plan', '--all', '--platform', 'linux/amd64']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /note: lineup ascend: skipped, it builds linux\/arm64 only/);
  });
});

describe('refused with exit 2 and the reason', () => {
  const cases: Array<{ name: string; args: string[]; error: RegExp; files?: Files; env?: Record<string, string> }> = [
    {
      name: 'a platform the lineup excludes',
      args: ['--scheme', 'v0.8', '--lineup', 'ascend', 'plan', '--all', '--platform', 'linux/amd64'],
      error: /--platform asks for linux\/amd64, which the selected lineup excludes: lineup ascend builds linux\/arm64 only/,
    },
    {
      name: 'a named flavor the lineup excludes by platform',
      args: ['--scheme', 'v0.8', '--lineup', 'ascend', 'plan', 'featured/isaac'],
      error: /featured\/isaac builds linux\/amd64 only, and lineup ascend builds linux\/arm64/,
    },
    {
      name: 'a lineup of the other scheme',
      args: ['--lineup', 'universal', 'plan', '--all'],
      error:
        /unknown lineup "universal" \(from --lineup\) in tag scheme v0\.4\n {2}fix: universal is a lineup of scheme v0\.8: add --scheme v0\.8/,
    },
    {
      name: 'an unknown scheme',
      args: ['--scheme', '0.8', 'tags', '--all'],
      error: /unknown tag scheme "0\.8" \(from --scheme\)\n {2}fix: use v0\.8/,
    },
    {
      name: '--profile with several lineups',
      args: ['--lineup', 'base,ascend', '--profile', 'ascend', 'plan', '--all'],
      error: /--profile ascend cannot apply to several lineups/,
    },
    {
      name: 'a bad IDEKUBE_LINEUP in a profile, by file:line',
      args: ['--profile', 'ascend', 'plan', '--all'],
      files: { '.dockerargs.ascend': 'TAG_POSTFIX=-ascend\nIDEKUBE_LINEUP=ascnd\n' },
      error: /\.dockerargs\.ascend:2: unknown lineup "ascnd" in tag scheme v0\.4\n {2}fix: did you mean ascend\?/,
    },
    {
      name: 'a bad IDEKUBE_SCHEME in .dockerargs, by file:line',
      args: ['list'],
      files: { '.dockerargs': 'BASE_IMAGE=x\nIDEKUBE_SCHEME=v9\n' },
      error: /\.dockerargs:2: unknown tag scheme "v9"/,
    },
    {
      name: 'IDEKUBE_SCHEME in a profile',
      args: ['--profile', 'ascend', 'list'],
      files: { '.dockerargs.ascend': 'IDEKUBE_SCHEME=v0.8\n' },
      error: /\.dockerargs\.ascend:1: IDEKUBE_SCHEME is project-wide and cannot be set in a profile/,
    },
    {
      name: 'a lineup whose profile does not exist',
      args: ['--lineup', 'base,ascend', 'plan', '--all'],
      files: { '.dockerargs.ascend': '' },
      error: /lineup ascend builds with the profile ascend, and \.dockerargs\.ascend does not exist/,
    },
    {
      name: 'v0.4 promote of a prerelease',
      args: ['--git-tag', 'v1.2.4-rc.1', 'promote', 'featured/base'],
      error: /featured\/base: nothing to promote to: aliases skipped: v1\.2\.4-rc\.1 is a prerelease/,
    },
    {
      name: 'v0.8 promote with --alias',
      args: ['--scheme', 'v0.8', 'promote', 'featured/base', '--alias', 'latest'],
      error: /--alias is for the v0\.4 scheme/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = c.files ? makeProject(FILES, c.files, c.files['.dockerargs.ascend'] === '' ? ['.dockerargs.ascend'] : []) : dir;
      try {
        const r = runCli(['-C', d, '--git-tag', 'v1.2.3', ...c.args], { env: c.env ?? {} });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, c.error);
      } finally {
        if (d !== dir) cleanup(d);
      }
    });
  }
});

describe('idekube tags output per scheme (goldens)', () => {
  const naming = ['--registry', 'ghcr.io', '--author', 'idekube-project'];
  for (const [file, args] of [
    ['tags/cli-v0.4.txt', ['--lineup', 'base,ascend']],
    ['tags/cli-v0.8.txt', ['--scheme', 'v0.8', '--lineup', 'universal,ascend']],
    ['tags/cli-v0.8-staging.txt', ['--scheme', 'v0.8', '--lineup', 'universal,ascend', '--staging']],
    ['tags/cli-v0.8-edge.txt', ['--scheme', 'v0.8', '--profile', 'ascend', '--git-tag', 'edge']],
  ] as const) {
    it(file, () => {
      const r = cli([...naming, ...args, 'tags', '--all', '--alias', 'latest']);
      assert.equal(r.code, 0, r.stderr);
      golden(file, r.stdout, 'lineup-cli');
    });
  }
});

// ---- list, generate, test and config honour the selection as build, plan and tags do ----

const ALL13 = [
  'coder/base',
  'coder/lite',
  'featured/base',
  'featured/dind',
  'featured/isaac',
  'featured/ros2',
  'featured/speit',
  'featured/speit-ai',
  'featured/speit-ascendai',
  'jupyter/base',
  'jupyter/speit',
  'jupyter/speit-ai',
  'jupyter/speit-ascendai',
];
const V04_ASCEND = ['featured/base', 'featured/speit-ascendai', 'jupyter/base', 'jupyter/speit-ascendai'];
const V08_ASCEND = ['featured/base', 'featured/speit-ai', 'jupyter/base', 'jupyter/speit-ai'];
const V08_UNIVERSAL = [
  'coder/base',
  'featured/base',
  'featured/dind',
  'featured/ros2',
  'featured/speit',
  'featured/speit-ai',
  'jupyter/base',
  'jupyter/speit-ai',
];
const BOTH = ['linux/amd64', 'linux/arm64'];
type ListRow = { id: string; lineup?: string; platforms: string[]; parent: string | null };
const refusedWith = (args: string[], error: RegExp, env: Record<string, string> = {}) => {
  const r = cli(args, env);
  assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, error);
  assert.doesNotMatch(r.stderr, /Docker Engine not reachable/);
};

describe('idekube list with lineups', () => {
  it('without a lineup: every flavor, four tab-separated columns (unchanged)', () => {
    const r = cli(['list']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split('\t')[0]),
      ALL13,
    );
    assert.equal(
      lines.find((l) => l.startsWith('featured/isaac\t')),
      'featured/isaac\tfeatured/base\tlinux/amd64\ttool',
    );
    assert.equal(
      lines.find((l) => l.startsWith('featured/base\t')),
      'featured/base\timage:${BASE_IMAGE}\tlinux/amd64,linux/arm64\tbase',
    );
    const rows: ListRow[] = json(['list']);
    assert.deepEqual(
      rows.map((x) => x.id),
      ALL13,
    );
    assert.ok(rows.every((x) => !('lineup' in x)));
  });
  it('v0.4 --lineup ascend: the Ascend list only, the lineup as a fifth column; --profile ascend names the same lineup', () => {
    for (const how of [
      ['--lineup', 'ascend'],
      ['--profile', 'ascend'],
    ]) {
      const r = cli([...how, 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trimEnd().split('\n'), [
        'featured/base\timage:${BASE_IMAGE}\tlinux/amd64,linux/arm64\tbase\tascend',
        'featured/speit-ascendai\tfeatured/base\tlinux/amd64,linux/arm64\ttool\tascend',
        'jupyter/base\timage:${BASE_IMAGE}\tlinux/amd64,linux/arm64\tbase\tascend',
        'jupyter/speit-ascendai\tjupyter/base\tlinux/amd64,linux/arm64\ttool\tascend',
      ]);
    }
  });
  it("v0.8 universal,ascend: each lineup's flavors with its own platforms (--json: a lineup field)", () => {
    const rows: ListRow[] = json(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'list']);
    assert.deepEqual(
      rows.filter((x) => x.lineup === 'universal').map((x) => x.id),
      V08_UNIVERSAL,
    );
    assert.deepEqual(
      rows.filter((x) => x.lineup === 'ascend').map((x) => x.id),
      V08_ASCEND,
    );
    assert.equal(rows.length, V08_UNIVERSAL.length + V08_ASCEND.length);
    for (const x of rows) assert.deepEqual(x.platforms, x.lineup === 'ascend' ? ['linux/arm64'] : BOTH, `${x.lineup}:${x.id}`);
    const text = cli(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'list']);
    assert.ok(text.stdout.split('\n').includes('jupyter/speit-ai\tjupyter/base\tlinux/arm64\ttool\tascend'), text.stdout);
    assert.match(
      text.stderr,
      /note: lineup universal \(v0\.8\) names featured\/kathara, coder\/conda, agent\/base: not in this catalog yet, skipped/,
    );
  });
  it('a bad selection is exit 2 with the reason, as for build', () => {
    refusedWith(['--lineup', 'universal', 'list'], /unknown lineup "universal" \(from --lineup\) in tag scheme v0\.4/);
    refusedWith(['--lineup', 'base,ascend', '--profile', 'ascend', 'list'], /--profile ascend cannot apply to several lineups/);
  });
});

describe('idekube generate with lineups', () => {
  const tmp = () => mkdtempSync(join(tmpdir(), 'idekube-lineup-gen-'));
  const baseImage = (dockerfile: string) => /^ARG BASE_IMAGE=(.*)$/m.exec(readFileSync(dockerfile, 'utf8'))?.[1];
  it('without a lineup: the flavors named, into -o DIR/<flavor> (rows unchanged)', () => {
    const out = tmp();
    const rows = json(['generate', 'featured/base', '-o', out]);
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0]), ['flavor', 'dir', 'files', 'bytes', 'written', 'unchanged', 'removed']);
    assert.equal(rows[0].dir, join(out, 'featured/base'));
    assert.equal(baseImage(join(out, 'featured/base/Dockerfile')), 'ubuntu:24.04');
    const all = json(['generate', '--all', '-o', tmp()]);
    assert.deepEqual(
      all.map((r: { flavor: string }) => r.flavor),
      ALL13,
    );
  });
  it('v0.4 --lineup ascend --all: the Ascend list, with the ascend profile, into .idekube/build/ascend', () => {
    const rows = json(['--lineup', 'ascend', 'generate', '--all']);
    assert.deepEqual(
      rows.map((r: { flavor: string }) => r.flavor),
      V04_ASCEND,
    );
    for (const r of rows) {
      assert.equal(r.lineup, 'ascend');
      assert.equal(r.dir, join(dir, '.idekube/build/ascend', r.flavor));
    }
    assert.equal(baseImage(join(dir, '.idekube/build/ascend/featured/base/Dockerfile')), 'ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11');
  });
  it('v0.8 universal,ascend: each lineup in its own profile folder, by default and under -o', () => {
    const rows = json(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'generate', '--all']);
    assert.deepEqual(
      rows.filter((r: { lineup: string }) => r.lineup === 'universal').map((r: { dir: string }) => r.dir),
      V08_UNIVERSAL.map((id) => join(dir, '.idekube/build/default', id)),
    );
    assert.deepEqual(
      rows.filter((r: { lineup: string }) => r.lineup === 'ascend').map((r: { dir: string }) => r.dir),
      V08_ASCEND.map((id) => join(dir, '.idekube/build/ascend', id)),
    );
    const out = tmp();
    const r = cli(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'generate', '--all', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ascend:featured\/base +\S*ascend\/featured\/base {2}\(/m);
    assert.equal(baseImage(join(out, 'default/featured/base/Dockerfile')), 'ubuntu:24.04');
    assert.equal(baseImage(join(out, 'ascend/featured/base/Dockerfile')), 'ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11');
    assert.ok(existsSync(join(out, 'ascend/jupyter/speit-ai/Dockerfile')));
    assert.ok(!existsSync(join(out, 'ascend/featured/dind')));
    assert.ok(!existsSync(join(out, 'featured')), 'nothing written straight into -o with several profiles');
  });
  it('one lineup with -o writes into the folder itself', () => {
    const out = tmp();
    const rows = json(['--scheme', 'v0.8', '--lineup', 'ascend', 'generate', 'featured/base', '-o', out]);
    assert.deepEqual(
      rows.map((r: { dir: string; lineup: string }) => [r.dir, r.lineup]),
      [[join(out, 'featured/base'), 'ascend']],
    );
    assert.equal(baseImage(join(out, 'featured/base/Dockerfile')), 'ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11');
  });
  it('a flavor the lineup cannot build is exit 2 with the reason, nothing written', () => {
    const out = join(tmp(), 'o');
    refusedWith(
      ['--scheme', 'v0.8', '--lineup', 'ascend', 'generate', 'featured/isaac', '-o', out],
      /featured\/isaac builds linux\/amd64 only, and lineup ascend builds linux\/arm64/,
    );
    assert.ok(!existsSync(out));
  });
});

describe('idekube test with lineups (the selection; no engine)', () => {
  const noEngine = { DOCKER_HOST: 'unix:///tmp/idekube-no-daemon.sock' };
  const subjectsOf = async (
    global: { scheme?: string; lineup?: string; profile?: string },
    names: string[],
    raw: { all?: boolean; platform?: string; image?: string },
  ) => {
    const ctx = makeContext({ dir, set: [], gitTag: 'v1.2.3', color: false, ...global }, {});
    try {
      return await testSubjects(ctx, names, parseTestFlags(raw, {}));
    } finally {
      takeWarnings();
    }
  };
  const refs = (r: Awaited<ReturnType<typeof subjectsOf>>) =>
    r.subjects.map((s) => `${r.lineupOf.get(s) ?? '-'} ${s.flavor}@${s.platform} ${s.image}`);
  it('without a lineup: every flavor, on the platform asked for, refs without a postfix (unchanged)', async () => {
    const r = await subjectsOf({}, [], { all: true, platform: 'linux/arm64' });
    assert.deepEqual(
      r.subjects.map((s) => s.flavor),
      ALL13.filter((id) => id !== 'featured/isaac'),
    );
    assert.equal(r.subjects[0]!.image, 'docker.io/davidliyutong/idekube-container:coder-base-v1.2.3-arm64');
    assert.deepEqual(r.notes, ['featured/isaac: not tested, it builds linux/amd64 and linux/arm64 was asked for']);
    assert.equal(r.lineupOf.size, 0);
  });
  it('v0.4 --lineup ascend --all: the Ascend list, tags with the ascend postfix', async () => {
    const r = await subjectsOf({ lineup: 'ascend' }, [], { all: true, platform: 'linux/amd64,linux/arm64' });
    assert.deepEqual(refs(r).slice(0, 2), [
      'ascend featured/base@linux/amd64 docker.io/davidliyutong/idekube-container:featured-base-v1.2.3-ascend-amd64',
      'ascend featured/base@linux/arm64 docker.io/davidliyutong/idekube-container:featured-base-v1.2.3-ascend-arm64',
    ]);
    assert.deepEqual([...new Set(r.subjects.map((s) => s.flavor))], V04_ASCEND);
    assert.equal(r.qualify, false);
  });
  it("v0.8 universal,ascend: each lineup's flavors × its platforms, refs from its own project", async () => {
    const r = await subjectsOf({ scheme: 'v0.8', lineup: 'universal,ascend' }, [], { all: true, platform: 'linux/amd64,linux/arm64' });
    assert.equal(r.qualify, true);
    const ascend = refs(r).filter((x) => x.startsWith('ascend '));
    assert.deepEqual(
      ascend,
      V08_ASCEND.map((id) => {
        const [group, variant] = id.split('/');
        const ref =
          variant === 'base'
            ? `idekube-container-${group}-base:v1.2.3-ascend-arm64`
            : `idekube-container-${group}:${variant}-v1.2.3-ascend-arm64`;
        return `ascend ${id}@linux/arm64 docker.io/davidliyutong/${ref}`;
      }),
    );
    assert.equal(refs(r).filter((x) => x.startsWith('universal ')).length, V08_UNIVERSAL.length * 2);
    assert.ok(refs(r).includes('universal featured/base@linux/amd64 docker.io/davidliyutong/idekube-container-featured-base:v1.2.3-amd64'));
  });
  it("by default this machine's platform, within each lineup's (a lineup without it is a note)", async () => {
    const r = await subjectsOf({ scheme: 'v0.8', lineup: 'universal,ascend' }, [], { all: true });
    const native = nativePlatform();
    assert.ok(r.subjects.every((s) => s.platform === native));
    assert.equal(r.subjects.filter((s) => r.lineupOf.get(s) === 'universal').length, V08_UNIVERSAL.length);
    if (native === 'linux/amd64')
      assert.deepEqual(r.notes, [
        'lineup ascend: not tested, it builds linux/arm64 only and this machine is linux/amd64 (add --platform linux/arm64: emulated)',
      ]);
    else assert.equal(r.subjects.filter((s) => r.lineupOf.get(s) === 'ascend').length, V08_ASCEND.length);
  });
  it('a named flavor goes to the lineups that list it', async () => {
    const r = await subjectsOf({ scheme: 'v0.8', lineup: 'universal,ascend' }, ['featured/speit', 'jupyter/speit-ai'], {
      platform: 'linux/arm64',
    });
    assert.deepEqual(
      refs(r).map((x) => x.split(' ').slice(0, 2).join(' ')),
      ['universal featured/speit@linux/arm64', 'universal jupyter/speit-ai@linux/arm64', 'ascend jupyter/speit-ai@linux/arm64'],
    );
  });
  const refusals: Array<[string, string[], RegExp, Record<string, string>?]> = [
    [
      'a flavor the lineup excludes',
      ['--scheme', 'v0.8', '--lineup', 'ascend', 'test', 'featured/isaac'],
      /featured\/isaac builds linux\/amd64 only, and lineup ascend builds linux\/arm64/,
    ],
    [
      'a platform the lineup excludes',
      ['--scheme', 'v0.8', '--lineup', 'ascend', 'test', '--all', '--platform', 'linux/amd64'],
      /--platform asks for linux\/amd64, which the selected lineup excludes: lineup ascend builds linux\/arm64 only/,
    ],
    [
      'IDEKUBE_PLATFORMS the lineup excludes',
      ['--scheme', 'v0.8', '--lineup', 'ascend', 'test', '--all'],
      /IDEKUBE_PLATFORMS asks for linux\/amd64/,
      { IDEKUBE_PLATFORMS: 'linux/amd64' },
    ],
    [
      '--image with a flavor in two lineups',
      ['--lineup', 'base,ascend', 'test', 'featured/base', '--image', 'example.invalid/x:y'],
      /--image tests one image, but featured\/base is selected in lineups base, ascend\n {2}fix: select the one lineup/,
    ],
  ];
  for (const [name, args, error, env] of refusals) {
    it(`refused before any engine: ${name}`, () => refusedWith(args, error, { ...noEngine, ...env }));
  }
  it('a valid selection goes on to the engine (exit 1 without one, not 2)', () => {
    const r = cli(['--lineup', 'ascend', 'test', '--all', '--platform', 'linux/arm64'], noEngine);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Docker Engine not reachable/);
  });
});

describe('idekube config with lineups', () => {
  type ConfigJson = {
    flavor: string;
    lineup?: string;
    profile: string | null;
    settings: Array<{ key: string; value: string }>;
    args: Array<{ key: string; value: string; origin: string }>;
  };
  const setting = (c: ConfigJson, key: string) => c.settings.find((x) => x.key === key)?.value;
  const arg = (c: ConfigJson, key: string) => c.args.find((x) => x.key === key)?.value;
  it("without a lineup: the project's profile, no lineup named (unchanged)", () => {
    const r = cli(['config', 'featured/base']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'featured/base');
    const c: ConfigJson = json(['config', 'featured/base']);
    assert.ok(!('lineup' in c));
    assert.equal(c.profile, null);
    assert.equal(arg(c, 'BASE_IMAGE'), 'ubuntu:24.04');
  });
  it("v0.4 --lineup ascend: resolved with the lineup's profile, which is named", () => {
    const r = cli(['--lineup', 'ascend', 'config', 'featured/base']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'featured/base (lineup ascend, profile ascend)');
    const c: ConfigJson = json(['--lineup', 'ascend', 'config', 'featured/base']);
    assert.deepEqual(
      [c.lineup, c.profile, setting(c, 'TAG_POSTFIX'), arg(c, 'BASE_IMAGE')],
      ['ascend', 'ascend', '-ascend', 'ascendai/cann:8.3.rc2-910b-ubuntu22.04-py3.11'],
    );
  });
  it('v0.8 universal,ascend: a flavor one lineup builds resolves with that one', () => {
    const r = cli(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'config', 'featured/speit']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'featured/speit (lineup universal, no profile)');
    const c: ConfigJson = json(['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'config', 'featured/dind']);
    assert.deepEqual([c.lineup, c.profile], ['universal', null]);
  });
  it('v0.8 universal,ascend: a flavor both lineups build is exit 2, naming the choice', () => {
    refusedWith(
      ['--scheme', 'v0.8', '--lineup', 'universal,ascend', 'config', 'featured/base'],
      /config resolves featured\/base with one lineup's profile, and featured\/base is in lineups universal \(no profile\), ascend \(profile ascend\)\n {2}fix: select one: idekube --lineup universal config featured\/base, or idekube --lineup ascend config featured\/base/,
    );
  });
  it('a flavor outside the lineup is exit 2 with the reason', () => {
    refusedWith(
      ['--scheme', 'v0.8', '--lineup', 'ascend', 'config', 'featured/isaac'],
      /featured\/isaac builds linux\/amd64 only, and lineup ascend builds linux\/arm64/,
    );
  });
});
