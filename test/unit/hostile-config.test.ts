/**
 * Hostile or unlucky input: files that are not what their name says, links out of the project, huge files, overlong
 * settings, colliding names, near-miss file names, typos, flag combinations, deep and wide catalogs. Each class: exit 2
 * with file:line (or exit 0 with a warning where the input is legal but surely not meant), never a stack trace, never
 * the content of a file that is not a KEY=VALUE file, a bounded message. Real CLI, no engine.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, cleanup, git, makeProject, runCli, writeFile, type CliResult } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

function project(overrides: Record<string, string> = {}, remove: string[] = []): string {
  const dir = makeProject(undefined, overrides, remove);
  dirs.push(dir);
  return dir;
}

function cli(dir: string, args: string[], env: Record<string, string> = {}): CliResult {
  return runCli(['-C', dir, ...args], { cwd: dir, env: { GIT_TAG: 'v1', ...env } });
}

/** Exit 2, the pattern on the first line, no stack trace, a bounded message. */
function refused(r: CliResult, first: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit code (stderr: ${r.stderr.slice(0, 2000)})`);
  assert.match(r.stderr.split('\n')[0]!, first, `${what}: first line of\n${r.stderr.slice(0, 2000)}`);
  clean(r, what);
}

function clean(r: CliResult, what: string): void {
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
  assert.doesNotMatch(r.stderr, /internal error/, `${what}: no internal error`);
  assert.ok(r.stderr.length < 8000, `${what}: bounded message (${r.stderr.length} characters)`);
}

/** A secret outside every project: links to it must never echo it. */
const SECRET_DIR = mkdtempSync(join(tmpdir(), 'idekube-secret-'));
const SECRET = join(SECRET_DIR, 'shadow');
const SECRET_TEXT =
  'root:$6$TOPSECRETHASH$abc:19000:0:99999:7:::\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC+TOPSECRETB64/xyz==\napi_token=TOPSECRETVALUE\nexport KEY="x" TOPSECRETTAIL\n';
writeFileSync(SECRET, SECRET_TEXT);
after(() => rmSync(SECRET_DIR, { recursive: true, force: true }));

describe('a settings file that is not a file does not crash', () => {
  const cases: Array<[string, (dir: string) => void, string[], RegExp]> = [
    [
      '.dockerargs is a folder',
      (d) => (rmSync(join(d, '.dockerargs')), mkdirSync(join(d, '.dockerargs'))),
      ['list'],
      /^idekube: error: \.dockerargs: a folder, not a file of KEY=VALUE lines/,
    ],
    [
      'a profile is a folder',
      (d) => mkdirSync(join(d, '.dockerargs.gpu')),
      ['--profile', 'gpu', 'list'],
      /^idekube: error: \.dockerargs\.gpu: a folder/,
    ],
    [
      'a flavor .dockerargs is a folder',
      (d) => mkdirSync(join(d, 'flavors/alpha/base/.dockerargs')),
      ['config', 'alpha/base'],
      /^idekube: error: flavors\/alpha\/base\/\.dockerargs: a folder/,
    ],
    [
      'a flavor .dockerargs is a folder (plan)',
      (d) => mkdirSync(join(d, 'flavors/alpha/child/.dockerargs')),
      ['plan', 'alpha/child', '--driver', 'docker'],
      /^idekube: error: flavors\/alpha\/child\/\.dockerargs: a folder/,
    ],
    [
      '.dockerargs is a FIFO',
      (d) => (rmSync(join(d, '.dockerargs')), execFileSync('mkfifo', [join(d, '.dockerargs')])),
      ['list'],
      /^idekube: error: \.dockerargs: a FIFO/,
    ],
    [
      'a profile is a dangling link',
      (d) => symlinkSync('nowhere', join(d, '.dockerargs.ci')),
      ['--profile', 'ci', 'list'],
      /^idekube: error: \.dockerargs\.ci: a symbolic link to nowhere, which does not exist/,
    ],
    [
      '.dockerargs is a dangling link',
      (d) => (rmSync(join(d, '.dockerargs')), symlinkSync('gone.txt', join(d, '.dockerargs'))),
      ['list'],
      /^idekube: error: \.dockerargs: a symbolic link to gone\.txt/,
    ],
  ];
  for (const [name, setup, args, first] of cases) {
    it(name, () => {
      const dir = project();
      setup(dir);
      refused(cli(dir, args), first, name);
    });
  }
  it('an unreadable .dockerargs', () => {
    const dir = project();
    chmodSync(join(dir, '.dockerargs'), 0o000);
    // root reads everything: then the CLI runs as nobody (setpriv, util-linux), who may enter the project
    if (process.getuid?.() !== 0)
      return refused(cli(dir, ['list']), /^idekube: error: \.dockerargs: cannot be read: permission denied/, 'unreadable');
    chmodSync(dir, 0o755);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, '-C', dir, 'list'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', NO_COLOR: '1', GIT_TAG: 'v1' },
    });
    refused(
      { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr },
      /^idekube: error: \.dockerargs: cannot be read: permission denied/,
      'unreadable',
    );
  });
  it('a 1.5 MB file of bad lines: the first 20 errors and a count, quickly', () => {
    for (const [text, first] of [
      [Array.from({ length: 120_000 }, (_, i) => `bad line ${i}`).join('\n'), /^idekube: error: \.dockerargs:1: line 1 is not KEY=VALUE/],
      [
        Array.from({ length: 100_000 }, (_, i) => `A${i % 1000}=${'x'.repeat(10)}`).join('\n'),
        /^idekube: error: \.dockerargs:1001: duplicate key A0 \(first set on line 1\)/,
      ],
      [Array.from({ length: 100_000 }, () => `9X=${'y'.repeat(12)}`).join('\n'), /^idekube: error: \.dockerargs:1: invalid key "9X"/],
    ] as const) {
      assert.ok(text.length > 1_400_000, `${text.length}`);
      const dir = project({ '.dockerargs': text });
      const r = cli(dir, ['list']);
      refused(r, first, 'big file');
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('idekube: error: .dockerargs:')).length, 20);
      assert.match(r.stderr, /… and \d+ more errors/);
    }
  });
  it('--json: the first 20 errors and the count of the others', () => {
    const dir = project({ '.dockerargs': Array.from({ length: 5000 }, (_, i) => `x${i}`).join('\n') });
    const r = cli(dir, ['--json', 'list']);
    assert.equal(r.code, 2);
    const err = JSON.parse(r.stderr).error;
    assert.deepEqual([err.errors.length, err.omitted, err.errors[0].file, err.errors[0].line], [20, 4980, '.dockerargs', 1]);
  });
});

describe('nothing leaks from a file that is not a KEY=VALUE file', () => {
  const noSecret = (r: CliResult, what: string) => {
    assert.doesNotMatch(r.stderr + r.stdout, /TOPSECRET/, `${what}: secret text in the output`);
  };
  it('a .dockerargs (or profile, or flavor .dockerargs) linked out of the project is refused, naming it', () => {
    for (const [rel, args, first] of [
      ['.dockerargs', ['list'], /^idekube: error: \.dockerargs: a symbolic link to a file outside the project \(.*shadow\): refused/],
      [
        '.dockerargs.prod',
        ['--profile', 'prod', 'list'],
        /^idekube: error: \.dockerargs\.prod: a symbolic link to a file outside the project/,
      ],
      ['flavors/beta/base/.dockerargs', ['config', 'beta/base'], /^idekube: error: flavors\/beta\/base\/\.dockerargs: /],
    ] as const) {
      const dir = project();
      rmSync(join(dir, rel), { force: true });
      symlinkSync(SECRET, join(dir, rel));
      const r = cli(dir, [...args]);
      refused(r, first, rel);
      noSecret(r, rel);
    }
  });
  it('a link inside the project is still read (upstream kept .dockerargs as a link to a profile file)', () => {
    const dir = project({ 'settings/base.args': 'BASE_IMAGE=debian:trixie\nTOOL_VERSION=2.0\n' });
    rmSync(join(dir, '.dockerargs'));
    symlinkSync('settings/base.args', join(dir, '.dockerargs'));
    const r = cli(dir, ['--json', 'config', 'alpha/base']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).args.find((a: { key: string }) => a.key === 'TOOL_VERSION').value, '2.0');
  });
  it('a copy of a secret file: its lines are counted, never shown', () => {
    for (const [rel, args] of [
      ['.dockerargs', ['list']],
      ['.dockerargs.x', ['--profile', 'x', 'list']],
      ['flavors/alpha/base/.dockerargs', ['config', 'alpha/base']],
    ] as const) {
      const dir = project({ [rel]: SECRET_TEXT });
      const r = cli(dir, [...args]);
      refused(r, new RegExp(`^idekube: error: ${rel.replace(/[./]/g, '\\$&')}:1: line 1 is not KEY=VALUE \\(it has no '='\\)`), rel);
      assert.match(
        r.stderr,
        new RegExp(`${rel.replace(/[./]/g, '\\$&')}:2: line 2 is not KEY=VALUE \\(what comes before '=' is not a key name\\)`),
      );
      assert.match(r.stderr, /:4: unexpected text after the closing quote in the value of KEY/);
      noSecret(r, rel);
    }
  });
  it('--json errors leak nothing either', () => {
    const dir = project({ '.dockerargs': SECRET_TEXT });
    const r = cli(dir, ['--json', 'list']);
    assert.equal(r.code, 2);
    noSecret(r, 'json');
  });
});

describe('naming settings are reported against the setting, where it came from, with the rule', () => {
  const cases: Array<[string, Record<string, string>, string[], Record<string, string>, RegExp]> = [
    [
      'REGISTRY from a flag',
      {},
      ['--registry', 'bad host', 'tags', 'alpha/base'],
      {},
      /^idekube: error: REGISTRY "bad host" \(from flag --registry\) is not a registry host/,
    ],
    [
      'REGISTRY from .dockerargs',
      { '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=1\nREGISTRY=https://reg.example\n' },
      ['plan', 'alpha/base', '--driver', 'docker'],
      {},
      /^idekube: error: \.dockerargs:3: REGISTRY "https:\/\/reg\.example" is not a registry host/,
    ],
    [
      'AUTHOR from the environment',
      {},
      ['plan', 'alpha/base', '--driver', 'docker'],
      { AUTHOR: 'David' },
      /^idekube: error: AUTHOR "David" \(from env AUTHOR\) is not a repository path/,
    ],
    [
      'AUTHOR from a profile',
      { '.dockerargs.ci': 'AUTHOR=a--b--\n' },
      ['--profile', 'ci', 'tags', 'alpha/base'],
      {},
      /^idekube: error: \.dockerargs\.ci:1: AUTHOR "a--b--" is not a repository path/,
    ],
    [
      'NAME with an upper-case part',
      {},
      ['--name', 'ok/Bad', 'tags', 'alpha/base'],
      {},
      /^idekube: error: NAME "ok\/Bad" \(from flag --name\) is not a repository path \(its part "Bad"\)/,
    ],
    [
      'TAG_POSTFIX with a slash',
      { '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=1\nTAG_POSTFIX=/x\n' },
      ['tags', 'alpha/base'],
      {},
      /^idekube: error: \.dockerargs:3: TAG_POSTFIX "\/x" may only hold/,
    ],
    [
      'GIT_TAG from .dockerargs with a space',
      { '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=1\nGIT_TAG=v1 beta\n' },
      ['tags', 'alpha/base'],
      { GIT_TAG: '' },
      /^idekube: error: \.dockerargs:3: GIT_TAG "v1 beta" is not a valid Docker tag part/,
    ],
  ];
  for (const [name, files, args, env, first] of cases) {
    it(name, () => {
      const r = cli(project(files), args, env);
      refused(r, first, name);
      assert.doesNotMatch(r.stderr, /-qemu:x-y-/, 'no made-up reference');
    });
  }
});

describe('one tag check for every command that makes tags', () => {
  const commands = [
    ['tags', 'alpha/grandchild'],
    ['plan', 'alpha/grandchild', '--driver', 'docker'],
    ['build', '--dry-run', '--driver', 'docker', 'alpha/grandchild'],
    ['build', '--dry-run', '--driver', 'buildx', 'alpha/grandchild'],
    ['generate', 'alpha/grandchild'],
  ];
  it('a 139-character GIT_TAG is refused by all of them, with the same message', () => {
    const dir = project();
    const firsts = commands.map((c) => {
      const r = cli(dir, ['--git-tag', 'v'.repeat(139), ...c]);
      refused(
        r,
        /^idekube: error: GIT_TAG "v+"… \(139 characters\) \(from flag --git-tag\) is not a valid Docker tag part: it is 139 characters, over 128/,
        c.join(' '),
      );
      return r.stderr.split('\n')[0];
    });
    assert.equal(new Set(firsts).size, 1);
  });
  it('a GIT_TAG that fits alone but not in the longest flavor tag is refused everywhere', () => {
    const dir = project();
    for (const c of commands) {
      const r = cli(dir, c, { GIT_TAG: 'v'.repeat(115) });
      refused(
        r,
        /^idekube: error: GIT_TAG "v+"… \(from env GIT_TAG\) is 115 characters and makes the tag of "alpha\/grandchild" 138 characters/,
        c.join(' '),
      );
      assert.match(r.stderr, /fix: use a GIT_TAG at most 105 characters long/);
    }
  });
  it('a flavor folder name too long for any tag is reported against its manifest', () => {
    const long = `alpha/${'x'.repeat(120)}`;
    const dir = project({ [`flavors/${long}/flavor.yaml`]: 'from:\n  parent: alpha/base\n' });
    refused(
      cli(dir, ['tags', 'alpha/base']),
      new RegExp(
        `^idekube: error: flavors/${long}/flavor\\.yaml: the flavor folder name "alpha/x+"… is 126 characters and makes its tag 135 characters`,
      ),
      'long folder',
    );
  });
  it('a TAG_POSTFIX that makes the registry-cache tag too long is reported against TAG_POSTFIX', () => {
    const dir = project();
    refused(
      cli(dir, ['tags', 'alpha/base'], { TAG_POSTFIX: `-${'p'.repeat(110)}` }),
      /^idekube: error: TAG_POSTFIX "-p+"… \(from env TAG_POSTFIX\) is 111 characters and makes the tag/,
      'postfix',
    );
  });
  it('two flavors whose tags collide are refused, both manifests named', () => {
    for (const [a, b] of [
      ['coder/lite-x', 'coder-lite/x'],
      ['a-b/c', 'a/b-c'],
    ]) {
      const dir = project({
        [`flavors/${a}/flavor.yaml`]: 'from:\n  image: x\n',
        [`flavors/${b}/flavor.yaml`]: 'from:\n  parent: alpha/base\n',
      });
      for (const c of [['list'], ['tags', '--all'], ['plan', '--all', '--driver', 'docker']]) {
        const r = cli(dir, c);
        refused(r, /gets the same image tags as/, `${a} vs ${b}: ${c[0]}`);
        assert.ok(r.stderr.includes(`flavors/${a}/flavor.yaml`) && r.stderr.includes(`flavors/${b}/flavor.yaml`), r.stderr);
      }
    }
  });
});

describe('exit codes of the command line itself', () => {
  it('no command: usage on stderr, exit 2; --help and help <cmd>: exit 0', () => {
    for (const args of [[], ['qemu']]) {
      const r = runCli(args);
      assert.equal(r.code, 2, `idekube ${args.join(' ')}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^Usage: idekube/);
      clean(r, 'no command');
    }
    for (const args of [['--help'], ['help', 'list'], ['list', '--help'], ['--version']])
      assert.equal(runCli(args).code, 0, args.join(' '));
  });
  it('manifest refuses the build flags it would ignore', () => {
    const dir = project();
    // manifest builds nothing: it does not declare these flags, so commander refuses them as unknown options
    for (const [flag, value] of [
      ['--driver', 'docker'],
      ['--builder', 'remote'],
      ['--cache', 'registry'],
    ]) {
      // no "(Did you mean --dir?)": commander's suggestions are off for manifest, they would mislead here
      const r = cli(dir, ['manifest', '--dry-run', flag!, value!, 'alpha/base']);
      refused(r, new RegExp(`^idekube: unknown option '${flag}'$`), flag!);
      assert.doesNotMatch(r.stderr, /Did you mean/i, flag!);
    }
    assert.doesNotMatch(runCli(['manifest', '--help']).stdout, /--driver|--builder|--cache/);
  });
});

describe('silent surprises: a warning (exit 0) or a note', () => {
  it('a manifest under a near-miss name: warning with "did you mean flavor.yaml?"', () => {
    for (const name of ['flavour.yaml', 'Flavor.yaml', 'flavors.yaml', 'FLAVOR.YML', 'flavr.yaml']) {
      const dir = project({ [`flavors/gamma/base/${name}`]: 'from:\n  image: x\n' });
      for (let run = 0; run < 2; run++) {
        const r = cli(dir, ['list']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `^warning: flavors/gamma/base/${name.replace('.', '\\.')}: ${name.replace('.', '\\.')} is not read, so there is no flavor gamma/base \\(did you mean flavor\\.yaml\\?\\)`,
            'm',
          ),
          `${name}, run ${run} (warned again when cached)`,
        );
        clean(r, name);
      }
    }
  });
  it('a manifest one folder too high: warning', () => {
    const r = cli(project({ 'flavors/gamma/flavor.yaml': 'from:\n  image: x\n' }), ['list']);
    assert.equal(r.code, 0);
    assert.match(
      r.stderr,
      /^warning: flavors\/gamma\/flavor\.yaml: flavor\.yaml is not read: a manifest is flavors\/<flavor>\/<variant>\/flavor\.yaml/m,
    );
  });
  it('a key nothing reads: warning with the closest key that is read', () => {
    const dir = project({
      '.dockerargs':
        'BASE_IMAGE=x\nTOOL_VERSION=1\nTOOL_VERISON=2\ntool_version=3\nUNRELATED_THING=1\nREGISTRY=docker.io\nQEMU_DISK_SIZE=8G\nTAG_POSTFIX=\n',
      '.dockerargs.ci': 'TZZ=UTC\n',
      'flavors/alpha/base/.dockerargs': 'TOOL_VERSON=9\n',
    });
    const r = cli(dir, ['--profile', 'ci', 'list']);
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    assert.deepEqual(warnings, [
      'warning: .dockerargs:3: TOOL_VERISON is not read by any layer, flavor or idekube setting: it has no effect (did you mean TOOL_VERSION?)',
      'warning: .dockerargs:4: tool_version is not read by any layer, flavor or idekube setting: it has no effect (did you mean TOOL_VERSION?)',
      'warning: .dockerargs:5: UNRELATED_THING is not read by any layer, flavor or idekube setting: it has no effect',
      'warning: .dockerargs.ci:1: TZZ is not read by any layer, flavor or idekube setting: it has no effect (did you mean TZ?)',
      'warning: flavors/alpha/base/.dockerargs:1: TOOL_VERSON is not read by any layer, flavor or idekube setting: it has no effect (did you mean TOOL_VERSION?)',
    ]);
    assert.equal(cli(dir, ['-q', '--profile', 'ci', 'list']).stderr, '', '-q: no warnings');
    const given = project();
    const viaFlags = cli(given, ['--set', 'TOOL_VERSON=1', '--set', 'REGISTRY=docker.io', 'list'], {
      IDEKUBE_ARG_TZZ: 'x',
      IDEKUBE_ARG_TZ: 'UTC',
    });
    assert.equal(viaFlags.code, 0);
    assert.deepEqual(
      viaFlags.stderr.split('\n').filter((l) => l.startsWith('warning:')),
      [
        'warning: env IDEKUBE_ARG_TZZ: TZZ is not read by any layer, flavor or idekube setting: it has no effect (did you mean TZ?)',
        'warning: --set TOOL_VERSON: TOOL_VERSON is not read by any layer, flavor or idekube setting: it has no effect (did you mean TOOL_VERSION?)',
      ],
    );
    const json = cli(dir, ['--json', 'list'])
      .stderr.split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.deepEqual(json[0], {
      warning: {
        message: 'TOOL_VERISON is not read by any layer, flavor or idekube setting: it has no effect (did you mean TOOL_VERSION?)',
        file: '.dockerargs',
        line: 3,
        fix: 'rename it to TOOL_VERSION, or remove the line',
      },
    });
  });
  it('--cache registry with --no-cache, in either order: every step rebuilt, the cache still exported when pushing, said in a note', () => {
    const dir = project();
    for (const order of [
      ['--cache', 'registry', '--no-cache'],
      ['--no-cache', '--cache', 'registry'],
    ]) {
      const r = cli(dir, ['--json', 'build', '--dry-run', '--driver', 'buildx', '--push', ...order, 'alpha/base']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.plan.cache, 'registry', order.join(' '));
      assert.ok(
        out.plan.targets.every((t: { cacheTo?: string }) => t.cacheTo),
        'cache exported',
      );
      assert.ok(out.argv.includes('--no-cache'), order.join(' '));
      assert.match(
        r.stderr,
        /"note":\{"message":"--no-cache with --cache registry: every step is rebuilt \(no cache is used\), and the registry cache is still exported/,
      );
      const plain = cli(dir, ['build', '--dry-run', '--driver', 'docker', ...order, 'alpha/base']);
      assert.match(
        plain.stderr,
        /^note: --no-cache with --cache registry: every step is rebuilt; the registry cache is neither used nor exported \(it is exported only with --push\)/m,
      );
    }
  });
  it('a release tag on a dirty work tree moves no alias (a note says why); --git-tag vouches for the tree', () => {
    const dir = project();
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'init');
    git(dir, 'tag', 'v1.2.3');
    const env = { GIT_TAG: '' };
    assert.match(cli(dir, ['tags', '--alias', 'latest', 'alpha/base'], env).stdout, /alpha-base-latest/);
    writeFile(dir, 'artifacts/layers/base/install.sh', '#!/usr/bin/env bash\necho changed\n');
    for (const c of [
      ['tags', '--alias', 'latest', 'alpha/base'],
      ['plan', '--alias', 'latest', '--driver', 'docker', 'alpha/base'],
    ]) {
      const r = cli(dir, c, env);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /latest/, c[0]);
      assert.match(
        r.stderr,
        /note: alpha\/base: aliases skipped: v1\.2\.3 is tagged, but the work tree has uncommitted changes \(1 file, e\.g\. artifacts\/layers\/base\/install\.sh\)/,
      );
    }
    assert.match(cli(dir, ['--git-tag', 'v1.2.3', 'tags', '--alias', 'latest', 'alpha/base'], env).stdout, /alpha-base-latest/);
  });
});

describe('scale: deep chains and wide catalogs work (timings: bench/scale.ts)', () => {
  it('a chain 300 deep', () => {
    const files: Record<string, string> = { '.dockerargs': 'BASE_IMAGE=debian:bookworm\n' };
    for (let i = 0; i < 300; i++) {
      files[`flavors/layers/l${i}.yaml`] = i % 50 === 0 ? `run: install.sh\nargs:\n  L${i}_VERSION: "1"\n` : `env:\n  L${i}: "1"\n`;
      if (i % 50 === 0) files[`artifacts/layers/l${i}/install.sh`] = '#!/usr/bin/env bash\n';
      files[`flavors/c/v${i}/flavor.yaml`] =
        `${i === 0 ? 'from:\n  image: ${BASE_IMAGE}\n' : `from:\n  parent: c/v${i - 1}\n`}layers: [l${i}]\n`;
    }
    const dir = mkdtempSync(join(tmpdir(), 'idekube-deep-'));
    dirs.push(dir);
    for (const [rel, text] of Object.entries(files)) writeFile(dir, rel, text);
    const list = cli(dir, ['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.trim().split('\n').length, 300);
    const plan = cli(dir, ['--json', 'plan', 'c/v299', '--driver', 'docker']);
    assert.equal(plan.code, 0, plan.stderr);
    const p = JSON.parse(plan.stdout);
    assert.equal(p.images.length, 300);
    assert.deepEqual(
      Object.keys(p.targets.at(-1).buildArgs)
        .filter((k) => k.endsWith('_VERSION'))
        .sort(),
      ['L0_VERSION', 'L100_VERSION', 'L150_VERSION', 'L200_VERSION', 'L250_VERSION', 'L50_VERSION'],
    );
    const json = JSON.parse(cli(dir, ['--json', 'list']).stdout);
    assert.equal(json.at(-1).allLayers.length, 300);
    const gen = cli(dir, ['generate', '--all', '-o', join(dir, 'out')]);
    assert.equal(gen.code, 0, gen.stderr);
    // a layer repeated deep down the chain is still found
    writeFile(dir, 'flavors/c/v299/flavor.yaml', 'from:\n  parent: c/v298\nlayers: [l3]\n');
    refused(
      cli(dir, ['list']),
      /^idekube: error: flavors\/c\/v299\/flavor\.yaml:3:10: layer l3 is already installed by the parent c\/v298/,
      'deep duplicate',
    );
  });
  it('1000 flavors; an unknown flavor gets a bounded list', () => {
    const files: Record<string, string> = {
      '.dockerargs': 'BASE_IMAGE=debian:bookworm\n',
      'flavors/layers/a.yaml': 'run: install.sh\n',
      'artifacts/layers/a/install.sh': '#!/usr/bin/env bash\n',
      'flavors/layers/b.yaml': 'env:\n  B: "1"\n',
    };
    for (let f = 0; f < 20; f++) {
      for (let v = 0; v < 50; v++)
        files[`flavors/f${f}/v${v}/flavor.yaml`] =
          v === 0
            ? 'from:\n  image: ${BASE_IMAGE}\nlayers: [a]\n'
            : `from:\n  parent: f${f}/v${Math.floor((v - 1) / 3)}\n${v < 4 ? 'layers: [b]\n' : ''}`;
    }
    const dir = mkdtempSync(join(tmpdir(), 'idekube-wide-'));
    dirs.push(dir);
    for (const [rel, text] of Object.entries(files)) writeFile(dir, rel, text);
    for (const c of [
      ['list'],
      ['tags', '--all'],
      ['plan', '--all', '--driver', 'docker'],
      ['build', '--dry-run', '--all', '--driver', 'docker'],
    ]) {
      const r = cli(dir, c);
      assert.equal(r.code, 0, `${c.join(' ')}: ${r.stderr.slice(0, 500)}`);
    }
    assert.equal(JSON.parse(cli(dir, ['--json', 'plan', '--all', '--driver', 'docker']).stdout).targets.length, 2000);
    const r = cli(dir, ['tags', 'f1/v999']);
    refused(r, /^idekube: error: unknown flavor "f1\/v999"/, 'unknown flavor');
    assert.match(r.stderr, /… \(1000 in all\)/);
  });
});
