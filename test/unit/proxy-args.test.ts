/** Proxy build args read from the Docker CLI config, the way `docker build` passes them. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { proxyBuildArgs, withProxyArgs } from '../../src/engine/proxy-args.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function configDir(config: unknown): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'idekube-dockercfg-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { DOCKER_CONFIG: dir };
}

describe('proxy build args', () => {
  it('default entry: each value under its upper- and lower-case name, empty values left out', () => {
    const env = configDir({ proxies: { default: { httpProxy: 'http://127.0.0.1:3142', noProxy: 'localhost,127.0.0.1', httpsProxy: '' } } });
    assert.deepEqual(proxyBuildArgs('unix:///var/run/docker.sock', env), {
      HTTP_PROXY: 'http://127.0.0.1:3142',
      http_proxy: 'http://127.0.0.1:3142',
      NO_PROXY: 'localhost,127.0.0.1',
      no_proxy: 'localhost,127.0.0.1',
    });
  });
  it("an engine's own entry replaces the default one", () => {
    const env = configDir({ proxies: { default: { httpProxy: 'http://a:1' }, 'ssh://builder@arm-host': { allProxy: 'socks5://b:2' } } });
    assert.deepEqual(proxyBuildArgs('ssh://builder@arm-host', env), { ALL_PROXY: 'socks5://b:2', all_proxy: 'socks5://b:2' });
    assert.deepEqual(proxyBuildArgs('unix:///var/run/docker.sock', env), { HTTP_PROXY: 'http://a:1', http_proxy: 'http://a:1' });
  });
  it('no config file, no proxies key, or a broken file: no args', () => {
    assert.deepEqual(proxyBuildArgs(undefined, { DOCKER_CONFIG: join(tmpdir(), 'idekube-no-such-dir') }), {});
    assert.deepEqual(proxyBuildArgs(undefined, configDir({ auths: {} })), {});
    assert.deepEqual(proxyBuildArgs(undefined, configDir('{not json')), {});
  });
  it('args the build sets itself win over the config', () => {
    assert.deepEqual(
      withProxyArgs({ http_proxy: 'http://mine:1', TZ: 'UTC' }, { HTTP_PROXY: 'http://cfg:2', http_proxy: 'http://cfg:2' }),
      { http_proxy: 'http://mine:1', TZ: 'UTC', HTTP_PROXY: 'http://cfg:2' },
    );
  });
});
