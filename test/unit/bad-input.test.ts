/**
 * Every kind of bad input ends with exit code 2, the exact message, and the file:line to fix, before any engine
 * is touched. Each case runs the real CLI against a throwaway project.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

interface Case {
  name: string;
  files?: Record<string, string>;
  remove?: string[];
  args: string[];
  env?: Record<string, string>;
  /** The first line of stderr, exactly. */
  error: string;
  /** A later line (the fix), when worth pinning. */
  fix?: string;
}

const cases: Case[] = [
  // .dockerargs
  {
    name: 'dockerargs: line without =',
    files: { '.dockerargs': 'BASE_IMAGE=x\nTOOL_VERSION=1\nOOPS\n' },
    args: ['list'],
    error: `idekube: error: .dockerargs:3: line 3 is not KEY=VALUE (it has no '=')`,
    fix: '  fix: write KEY=VALUE, or start the line with # to make it a comment',
  },
  {
    name: 'dockerargs: key starting with a digit',
    files: { '.dockerargs': '1KEY=x\n' },
    args: ['list'],
    error: 'idekube: error: .dockerargs:1: invalid key "1KEY"',
  },
  {
    name: 'dockerargs: key with a dash',
    files: { '.dockerargs': 'BASE_IMAGE=x\nMY-KEY=x\n' },
    args: ['list'],
    error: 'idekube: error: .dockerargs:2: invalid key "MY-KEY"',
  },
  {
    name: 'dockerargs: duplicate key',
    files: { '.dockerargs': 'A=1\nB=2\nA=3\n' },
    args: ['list'],
    error: 'idekube: error: .dockerargs:3: duplicate key A (first set on line 1)',
    fix: '  fix: keep one A= line in .dockerargs',
  },
  {
    name: 'dockerargs: unterminated double quote',
    files: { '.dockerargs': 'A="x y\n' },
    args: ['list'],
    error: 'idekube: error: .dockerargs:1: unterminated double quote in the value of A',
  },
  {
    name: 'dockerargs: unterminated single quote',
    files: { '.dockerargs': "\nA='x\n" },
    args: ['list'],
    error: 'idekube: error: .dockerargs:2: unterminated single quote in the value of A',
  },
  {
    name: 'dockerargs: text after the closing quote',
    files: { '.dockerargs': 'A="x" y\n' },
    args: ['list'],
    error: 'idekube: error: .dockerargs:1: unexpected text after the closing quote in the value of A',
  },
  {
    name: 'profile file: bad line',
    files: { '.dockerargs.fast': 'OK=1\nbad line\n' },
    args: ['--profile', 'fast', 'list'],
    error: `idekube: error: .dockerargs.fast:2: line 2 is not KEY=VALUE (it has no '=')`,
  },
  {
    name: 'flavor .dockerargs: bad line',
    files: { 'flavors/alpha/base/.dockerargs': 'X=1\n-X=2\n' },
    args: ['config', 'alpha/base'],
    error: 'idekube: error: flavors/alpha/base/.dockerargs:2: invalid key "-X"',
  },
  {
    name: 'flavor .dockerargs: naming setting',
    files: { 'flavors/alpha/base/.dockerargs': 'REGISTRY=x.example\n' },
    args: ['config', 'alpha/base'],
    error: 'idekube: error: flavors/alpha/base/.dockerargs:1: REGISTRY names the image and cannot be set per flavor',
  },
  // flavor manifests
  {
    name: 'manifest: YAML syntax',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: [x\n' },
    args: ['list'],
    error:
      'idekube: error: flavors/beta/base/flavor.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    fix: '  fix: fix the YAML syntax',
  },
  {
    name: 'manifest: duplicate YAML key',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nlayers: [base]\nlayers: [base]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:4:1: invalid YAML: Map keys must be unique',
  },
  {
    name: 'manifest: unknown key',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nlayer: [base]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:3:1: unknown key "layer" in a flavor manifest (at layer)',
    fix: '  fix: allowed keys here: description, from, platforms, layers, args, env, labels',
  },
  {
    name: 'manifest: unknown key inside from',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  imag: x\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:2:3: unknown key "imag" in a flavor manifest (at from.imag)',
    fix: '  fix: allowed keys here: image, parent',
  },
  {
    name: 'manifest: missing from',
    files: { 'flavors/beta/base/flavor.yaml': 'layers: [base]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:1:1: missing required key "from" in a flavor manifest',
  },
  {
    name: 'manifest: both image and parent',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\n  parent: alpha/base\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:2:3: must have at most 1 key (at from)',
    fix: '  fix: exactly one of: image (a base image reference, may use ${ARG}) or parent (another flavor, e.g. featured/base)',
  },
  {
    name: 'manifest: unknown parent',
    files: { 'flavors/alpha/child/flavor.yaml': 'from:\n  parent: alpha/nope\n' },
    args: ['list'],
    error: 'idekube: error: flavors/alpha/child/flavor.yaml:2:11: unknown parent flavor "alpha/nope" (at from.parent)',
  },
  {
    name: 'manifest: unknown layer',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nlayers:\n  - base\n  - nope\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:5:5: unknown layer "nope" (at layers[1])',
    fix: '  fix: create flavors/layers/nope.yaml, or use one of: amd64only, base, extra, tool',
  },
  {
    name: 'manifest: dependency cycle',
    files: { 'flavors/alpha/base/flavor.yaml': 'from:\n  parent: alpha/child\n' },
    args: ['list'],
    error: 'idekube: error: flavors/alpha/base/flavor.yaml:2:11: dependency cycle: alpha/base → alpha/child → alpha/base (at from.parent)',
  },
  {
    name: 'manifest: platform the parent lacks',
    files: {
      'flavors/alpha/grandchild/flavor.yaml': 'from:\n  parent: alpha/child\nplatforms: [linux/arm64]\n',
      'flavors/alpha/child/flavor.yaml': 'from:\n  parent: alpha/base\nplatforms: [linux/amd64]\n',
    },
    args: ['list'],
    error:
      'idekube: error: flavors/alpha/grandchild/flavor.yaml:3:13: platform linux/arm64 is not built by the parent alpha/child (it builds linux/amd64) (at platforms[0])',
  },
  {
    name: 'manifest: unsupported platform value',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nplatforms: [linux/s390x]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:3:13: "linux/s390x" is not allowed (at platforms[0])',
    fix: '  fix: use one of: linux/amd64, linux/arm64',
  },
  {
    name: 'manifest: layers is not a list',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nlayers: base\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:3:9: must be an array (at layers)',
  },
  {
    name: 'manifest: a layer listed twice',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nlayers: [base, base]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:3:9: list has duplicate entries (at layers)',
  },
  {
    name: 'manifest: layer already installed by the parent',
    files: { 'flavors/alpha/child/flavor.yaml': 'from:\n  parent: alpha/base\nlayers: [tool]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/alpha/child/flavor.yaml:3:10: layer tool is already installed by the parent alpha/base (at layers[0])',
  },
  {
    name: 'manifest: layer does not support a platform',
    files: { 'flavors/alpha/grandchild/flavor.yaml': 'from:\n  parent: alpha/child\nlayers: [amd64only]\n' },
    args: ['list'],
    error:
      'idekube: error: flavors/alpha/grandchild/flavor.yaml:3:10: layer amd64only does not support linux/arm64 (it supports linux/amd64) (at layers[0])',
    fix: '  fix: set platforms: [linux/amd64] in this manifest, or drop the layer',
  },
  {
    name: 'manifest: a required layer is missing before',
    files: { 'flavors/beta/base/flavor.yaml': 'from:\n  image: x\nlayers: [extra, base]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/beta/base/flavor.yaml:3:10: layer extra requires layer base before it (at layers[0])',
  },
  {
    name: 'manifest: invalid folder name',
    files: { 'flavors/Alpha/base/flavor.yaml': 'from:\n  image: x\n' },
    args: ['list'],
    error: 'idekube: error: flavors/Alpha/base/flavor.yaml: invalid flavor folder "Alpha/base"',
  },
  // layers
  {
    name: 'layer: unknown key',
    files: { 'flavors/layers/base.yaml': 'run: install.sh\nenvironment: {}\n' },
    args: ['list'],
    error: 'idekube: error: flavors/layers/base.yaml:2:1: unknown key "environment" in a layer (at environment)',
  },
  {
    name: 'layer: script does not exist',
    files: { 'flavors/layers/base.yaml': 'run: setup.sh\n' },
    args: ['list'],
    error: 'idekube: error: flavors/layers/base.yaml:1:6: script artifacts/layers/base/setup.sh does not exist (at run)',
  },
  {
    name: 'layer: after an unknown layer',
    files: { 'flavors/layers/extra.yaml': 'run: install.sh\nafter: [ghost]\n' },
    args: ['list'],
    error: 'idekube: error: flavors/layers/extra.yaml:2:9: unknown layer "ghost" (at after[0])',
  },
  {
    name: 'layer: service route with a bad port',
    files: { 'flavors/layers/tool.yaml': 'run: install.sh\nservices:\n  web:\n    routes:\n      - {path: /web/, port: 70000}\n' },
    args: ['list'],
    error: 'idekube: error: flavors/layers/tool.yaml:5:29: must be <= 65535 (at services.web.routes[0].port)',
  },
  // CLI flags
  { name: 'flag: unknown option', args: ['list', '--frobnicate'], error: "idekube: unknown option '--frobnicate'" },
  { name: 'flag: unknown command', args: ['frobnicate'], error: "idekube: unknown command 'frobnicate'" },
  {
    name: 'flag: --set without =',
    args: ['--set', 'NOVALUE', 'list'],
    error: 'idekube: error: --set "NOVALUE": expected KEY=VALUE with KEY made of letters, digits and _',
  },
  {
    name: 'flag: --set with a bad key',
    args: ['--set', 'a-b=1', 'list'],
    error: 'idekube: error: --set "a-b=1": expected KEY=VALUE with KEY made of letters, digits and _',
  },
  {
    name: 'flag: unknown profile',
    files: { '.dockerargs.ascend': 'A=1\n' },
    args: ['--profile', 'nope', 'list'],
    error: 'idekube: error: unknown profile "nope" (from --profile): .dockerargs.nope does not exist',
    fix: '  fix: use one of: ascend',
  },
  {
    name: 'flag: unknown flavor',
    args: ['tags', 'alpha/nope'],
    error: 'idekube: error: unknown flavor "alpha/nope"',
    fix: '  fix: use one of: alpha/base, alpha/child, alpha/grandchild, beta/base',
  },
  { name: 'flag: no flavor given', args: ['tags'], error: 'idekube: error: no flavor given' },
  {
    name: 'flag: unknown alias kind',
    args: ['tags', 'alpha/base', '--alias', 'newest'],
    error: 'idekube: error: --alias newest: unknown alias kind',
    fix: '  fix: use one of: latest, major, minor',
  },
  {
    name: 'flag: invalid registry',
    args: ['--registry', 'bad host', 'tags', 'alpha/base'],
    error:
      'idekube: error: REGISTRY "bad host" (from flag --registry) is not a registry host: a host name or IP address, optionally with :port, and no path',
  },
  {
    name: 'flag: invalid git tag',
    args: ['--git-tag', '-bad', 'tags', 'alpha/base'],
    error: 'idekube: error: GIT_TAG "-bad" (from flag --git-tag) is not a valid Docker tag part: it starts with "-"',
  },
  { name: 'flag: empty --name', args: ['--name', '', 'tags', 'alpha/base'], error: 'idekube: error: --name must not be empty' },
  {
    name: 'flag: -C at a folder without flavors/',
    args: ['-C', '/proc/self', 'list'],
    error: 'idekube: error: -C /proc/self: no flavors/ folder in /proc/self',
  },
  { name: 'flag: unknown schema kind', args: ['schema', 'recipe'], error: 'idekube: error: unknown schema "recipe"' },
  // environment variables
  {
    name: 'env: BRANCH names an unknown flavor',
    args: ['tags'],
    env: { BRANCH: 'gamma/base' },
    error: 'idekube: error: unknown flavor "gamma/base" (from env BRANCH)',
  },
  {
    name: 'env: IDEKUBE_ARG_ with an invalid key',
    args: ['list'],
    env: { 'IDEKUBE_ARG_bad-key': '1' },
    error: 'idekube: error: environment variable IDEKUBE_ARG_bad-key: "bad-key" is not a valid build-arg name',
  },
  {
    name: 'env: IDEKUBE_PROFILE names a missing profile',
    args: ['list'],
    env: { IDEKUBE_PROFILE: 'gpu' },
    error: 'idekube: error: unknown profile "gpu" (from IDEKUBE_PROFILE): .dockerargs.gpu does not exist',
  },
  {
    name: 'env: GIT_TAG with a space',
    args: ['tags', 'alpha/base'],
    env: { GIT_TAG: 'v1 beta' },
    error:
      'idekube: error: GIT_TAG "v1 beta" (from env GIT_TAG) is not a valid Docker tag part: it holds a character other than A-Z a-z 0-9 _ . -',
  },
  {
    name: 'env: TAG_POSTFIX with a slash',
    args: ['tags', 'alpha/base'],
    env: { TAG_POSTFIX: '/x' },
    error: 'idekube: error: TAG_POSTFIX "/x" (from env TAG_POSTFIX) may only hold letters, digits, _, . and -',
  },
  {
    name: 'env: AUTHOR in upper case',
    args: ['tags', 'alpha/base'],
    env: { AUTHOR: 'David' },
    error:
      'idekube: error: AUTHOR "David" (from env AUTHOR) is not a repository path: lower-case letters and digits, with single . _ __ or - between them (and / between parts)',
  },
];

describe('bad input: exit code 2, exact message, file:line', () => {
  for (const c of cases) {
    it(c.name, () => {
      const dir = makeProject(undefined, c.files ?? {}, c.remove ?? []);
      dirs.push(dir);
      const env = { GIT_TAG: 'v1', ...c.env };
      const r = runCli(c.args[0] === '-C' ? c.args : ['-C', dir, ...c.args], { cwd: dir, env });
      assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
      assert.equal(r.stdout, '', 'nothing on stdout');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines[0], c.error);
      if (c.fix) assert.ok(lines.includes(c.fix), `fix line ${JSON.stringify(c.fix)} in:\n${r.stderr}`);
    });
  }
  it(`covers at least 30 cases (${cases.length})`, () => assert.ok(cases.length >= 30));
  it('--json reports the error as JSON on stderr with file and line', () => {
    const dir = makeProject(undefined, { '.dockerargs': 'A=1\nBROKEN\n' });
    dirs.push(dir);
    const r = runCli(['-C', dir, '--json', 'list']);
    assert.equal(r.code, 2);
    const err = JSON.parse(r.stderr).error;
    assert.deepEqual([err.file, err.line, err.exitCode], ['.dockerargs', 2, 2]);
  });
});
