/** `--driver auto` asks the docker CLI about buildx only when a buildx plugin file exists. Uses the real docker CLI. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildxAvailable, pluginDirs } from '../../src/drivers/buildx-probe.js';
import { cleanup } from '../helpers/project.js';

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
    assert.deepEqual(pluginDirs({ DOCKER_CONFIG: config }, ['/usr/lib/docker/cli-plugins']), [join(config, 'cli-plugins'), '/opt/plugins', '/usr/lib/docker/cli-plugins']);
  });
});
