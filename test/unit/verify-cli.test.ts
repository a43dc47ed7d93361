/** `idekube test` on the command line: bad input exits 2 before any engine is touched; heavy modules load lazily. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, REPO_ROOT, runCli } from '../helpers/project.js';

const fixture = `${REPO_ROOT}/test/fixtures/catalog`;
// no engine: any attempt to reach one fails fast and visibly
const noEngine = { DOCKER_HOST: 'unix:///tmp/idekube-no-daemon.sock', GIT_TAG: 'v1.0.0' };

describe('idekube test: input errors exit 2, before any engine', () => {
  const cases: Array<[string[], RegExp]> = [
    [['test'], /no flavor given/],
    [['test', 'nope/none'], /unknown flavor "nope\/none"/],
    [['test', 'web/base', '--timeout', 'soon'], /--timeout "soon" is not a whole number/],
    [['test', 'web/base', '--platform', 'linux/s390x'], /unsupported platform/],
    [['test', 'web/base', 'web/extra', '--image', '127.0.0.1:5000/x/y:z'], /--image tests one image, but 2 flavors were selected/],
    [['test', 'desk/base', '--platform', 'linux/arm64'], /nothing to test/],
    [['test', 'web/base', '--gpus', 'maybe'], /--gpus "maybe" is not allowed/],
    [['build', 'web/base', '--test', '--driver', 'buildx'], /--test cannot be combined with --driver buildx/],
    [['publish', 'web/base', '--test', '--engine', 'linux/arm64=ssh://builder@arm'], /--test .*cannot be combined with --engine/],
  ];
  for (const [args, re] of cases) {
    it(`idekube ${args.join(' ')}`, () => {
      const r = runCli(['-C', fixture, ...args], { env: noEngine });
      assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /Docker Engine not reachable/);
    });
  }
  it('with --json the error is one JSON object on stderr', () => {
    const r = runCli(['-C', fixture, '--json', 'test', '--timeout', '0', 'web/base'], { env: noEngine });
    assert.equal(r.code, 2);
    assert.equal(JSON.parse(r.stderr).error.kind, 'InputError');
  });
  it('a missing engine is a run failure (exit 1) that says how to fix it', () => {
    const r = runCli(['-C', fixture, 'test', 'web/base'], { env: noEngine });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Docker Engine not reachable at unix:\/\/\/tmp\/idekube-no-daemon\.sock[\s\S]*fix: start dockerd/);
  });
});

describe('idekube test --help stays light', () => {
  it('loads none of dockerode, ssh2, ws, playwright-core', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'idekube-trace-')), 'loads.txt');
    const r = spawnSync(process.execPath, ['--import', join(REPO_ROOT, 'test/helpers/trace-loads.mjs'), CLI, 'test', '--help'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', IDEKUBE_TRACE_LOADS: file },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--screenshot <file>/);
    const loads = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.ok(
      loads.some((l) => l.includes('/dist/src/cli/main.js')),
      'the trace works',
    );
    assert.deepEqual(
      loads.filter(
        (l) =>
          /node_modules\/(dockerode|docker-modem|ssh2|ws|playwright-core)\/|^cjs:(dockerode|ssh2|ws|playwright-core)$/.test(l) ||
          /dist\/src\/verify\//.test(l),
      ),
      [],
    );
  });
});
