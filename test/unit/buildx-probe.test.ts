/**
 * `--driver auto` asks the docker CLI about buildx only when a buildx plugin file exists (uses the real docker CLI);
 * buildx's version, and probeBuildx through a fake docker CLI (and the real test engine when there is one).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildxAvailable, parseBuildxVersion, pluginDirs, probeBuildx, tooOldWhy } from '../../src/drivers/buildx-probe.js';
import { cleanup, REPO_ROOT } from '../helpers/project.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/buildx-probe');
const dirs: string[] = [];
after(() => dirs.forEach(cleanup));
function dockerConfig(): string {
  const d = mkdtempSync(join(tmpdir(), 'idekube-docker-config-'));
  dirs.push(d);
  return d;
}
const FAKE_BUILDX = `#!/bin/sh
if [ "$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"idekube tests","Version":"v0.0.0-fake","ShortDescription":"fake buildx"}'
  exit 0
fi
echo "github.com/docker/buildx v0.0.0-fake 0000000"
`;

describe('buildx probe', () => {
  it('no plugin file anywhere: not available, and the docker CLI is not started', async () => {
    const config = dockerConfig();
    // a docker on PATH that says buildx is there, and leaves a mark when started
    mkdirSync(join(config, 'bin'));
    writeFileSync(join(config, 'bin/docker'), `#!/bin/sh\ntouch ${join(config, 'started')}\necho "buildx v9"\n`);
    chmodSync(join(config, 'bin/docker'), 0o755);
    assert.equal(await buildxAvailable({ DOCKER_CONFIG: config, PATH: join(config, 'bin') }, []), undefined);
    assert.equal(existsSync(join(config, 'started')), false);
  });
  it('a plugin in the user folder is asked for its version through the docker CLI', async () => {
    const config = dockerConfig();
    mkdirSync(join(config, 'cli-plugins'));
    writeFileSync(join(config, 'cli-plugins/docker-buildx'), FAKE_BUILDX);
    chmodSync(join(config, 'cli-plugins/docker-buildx'), 0o755);
    assert.match((await buildxAvailable({ ...process.env, DOCKER_CONFIG: config }, []))!, /buildx v0\.0\.0-fake/);
  });
  it('the config file can add plugin folders', () => {
    const config = dockerConfig();
    writeFileSync(join(config, 'config.json'), JSON.stringify({ cliPluginsExtraDirs: ['/opt/plugins'] }));
    assert.deepEqual(pluginDirs({ DOCKER_CONFIG: config }, ['/usr/lib/docker/cli-plugins']), [
      join(config, 'cli-plugins'),
      '/opt/plugins',
      '/usr/lib/docker/cli-plugins',
    ]);
  });
});

describe('buildx version', () => {
  it('upstream, Debian and Docker Desktop lines', () => {
    assert.equal(parseBuildxVersion('github.com/docker/buildx v0.29.1 a2b3c4d'), '0.29.1');
    assert.equal(parseBuildxVersion(readFileSync(join(FIXTURES, 'version-debian.txt'), 'utf8')), '0.29.1');
    assert.equal(parseBuildxVersion('github.com/docker/buildx 0.29.1+ds1 '), '0.29.1');
    assert.equal(parseBuildxVersion('github.com/docker/buildx v0.13.1-desktop.1 788433953af10f2a698f5c07611dcf1b6ab47a3a'), '0.13.1');
  });
  it('garbage: no version (a commit id is not one)', () => {
    assert.equal(parseBuildxVersion(''), undefined);
    assert.equal(parseBuildxVersion("docker: 'buildx' is not a docker command."), undefined);
    assert.equal(parseBuildxVersion('github.com/docker/buildx 6c929a4 6c929a4'), undefined);
  });
  it('older than 0.13.0: a why with the fix', () => {
    assert.match(
      tooOldWhy('0.12.1')!,
      /^docker buildx 0\.12\.1 is older than 0\.13\.0, which idekube needs.*: update the docker-buildx plugin .* or use --driver docker$/,
    );
    assert.equal(tooOldWhy('0.13.0'), undefined);
    assert.equal(tooOldWhy('1.0.0'), undefined);
  });
});

// answers `buildx version`, `buildx inspect` and `info` from FAKE_* variables, and logs its argv
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
case "$*" in
  "buildx version") echo "$FAKE_VERSION" ;;
  "buildx inspect"*) if [ -n "$FAKE_INSPECT" ]; then cat "$FAKE_INSPECT"; else echo 'ERROR: no builder "nope" found' >&2; exit 1; fi ;;
  *info*) if [ -n "$FAKE_INFO" ]; then cat "$FAKE_INFO"; else echo 'Cannot connect to the Docker daemon' >&2; exit 1; fi ;;
  *) exit 64 ;;
esac
`;

function fakeDocker(vars: { version: string; inspect?: string; info?: string }): { env: NodeJS.ProcessEnv; log: () => string[] } {
  const config = dockerConfig();
  mkdirSync(join(config, 'cli-plugins'));
  writeFileSync(join(config, 'cli-plugins/docker-buildx'), '');
  mkdirSync(join(config, 'bin'));
  writeFileSync(join(config, 'bin/docker'), FAKE_DOCKER);
  chmodSync(join(config, 'bin/docker'), 0o755);
  const log = join(config, 'argv.log');
  const env = {
    ...process.env,
    DOCKER_CONFIG: config,
    PATH: `${join(config, 'bin')}:${process.env.PATH}`,
    FAKE_LOG: log,
    FAKE_VERSION: vars.version,
    FAKE_INSPECT: vars.inspect ? join(FIXTURES, vars.inspect) : '',
    FAKE_INFO: vars.info ? join(FIXTURES, vars.info) : '',
  };
  return { env, log: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

describe('probeBuildx', () => {
  it('no plugin file: not available, the docker CLI not started', async () => {
    const config = dockerConfig();
    const r = await probeBuildx({ env: { DOCKER_CONFIG: config, PATH: join(config, 'bin') }, systemDirs: [] });
    assert.equal(r.available, false);
    assert.match((r as { why: string }).why, /docker buildx is not installed.*--driver docker/);
  });
  it('too old: the why names both versions and the fix, and no builder is inspected', async () => {
    const f = fakeDocker({ version: 'github.com/docker/buildx v0.12.1 bd0c2f6' });
    const r = await probeBuildx({ env: f.env, systemDirs: [] });
    assert.deepEqual(r, { available: false, why: tooOldWhy('0.12.1') });
    assert.deepEqual(f.log(), ['buildx version']);
  });
  it('a version it cannot read', async () => {
    const r = await probeBuildx({ env: fakeDocker({ version: 'github.com/docker/buildx 6c929a4 6c929a4' }).env, systemDirs: [] });
    assert.match((r as { why: string }).why, /cannot read a version in "github.com\/docker\/buildx 6c929a4 6c929a4"/);
  });
  it('docker driver: the engine of its docker context is asked for its image store', async () => {
    const f = fakeDocker({
      version: 'github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4',
      inspect: 'inspect-docker-default.txt',
      info: 'info-driverstatus-containerd.json',
    });
    const r = await probeBuildx({ env: f.env, systemDirs: [] });
    assert.deepEqual(r, {
      available: true,
      version: '0.29.1',
      facts: {
        name: 'default',
        version: '0.29.1',
        driver: 'docker',
        platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/amd64/v3', 'linux/amd64/v4', 'linux/arm64'],
        containerdStore: true,
      },
    });
    assert.deepEqual(f.log(), ['buildx version', 'buildx inspect', '--context default info --format {{json .DriverStatus}}']);
  });
  it('--builder is passed on; other drivers ask the current engine (for --load); no engine: store unknown', async () => {
    const f = fakeDocker({ version: 'github.com/docker/buildx v0.29.1 a2b3c4d', inspect: 'inspect-kubernetes-two-nodes.txt' });
    const r = await probeBuildx({ builder: 'kube', env: f.env, systemDirs: [] });
    assert.equal(r.available, true);
    const { facts } = r as Extract<typeof r, { available: true }>;
    assert.equal(facts.driver, 'kubernetes');
    assert.equal('containerdStore' in facts, false);
    assert.deepEqual(f.log(), ['buildx version', 'buildx inspect --builder kube', 'info --format {{json .DriverStatus}}']);
  });
  it('an unknown builder: the why quotes buildx', async () => {
    const r = await probeBuildx({
      builder: 'nope',
      env: fakeDocker({ version: 'github.com/docker/buildx v0.29.1 a2b3c4d' }).env,
      systemDirs: [],
    });
    assert.equal(r.available, false);
    assert.match((r as { why: string }).why, /^cannot inspect builder nope \(no builder "nope" found\): see docker buildx ls/);
  });
});
