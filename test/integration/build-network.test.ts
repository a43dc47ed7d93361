/**
 * `--network host` and the Docker CLI's proxy config, through the real engine: a RUN step reaches a proxy on the
 * build host's loopback (here a tiny HTTP server in this test), with the proxy taken from $DOCKER_CONFIG/config.json
 * as `docker build` would; the proxy stays out of the image and out of the cache key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEngine, type Engine } from '../../src/engine/connect.js';
import { startCli } from '../helpers/cli-async.js';
import { removeImages, runId, runOnce, testEnv } from '../helpers/env.js';
import { cleanup, makeProject } from '../helpers/project.js';

const env = testEnv();
const id = runId();
const image = `${env.registry}/idekube-it/network:n-base-${id}-amd64`;

// The layer talks to $http_proxy with bash alone (the minimal base has no curl) and keeps the reply.
const PROBE = `#!/usr/bin/env bash
set -euo pipefail
hostport=\${http_proxy#http://}; hostport=\${hostport%/}
exec 3<>"/dev/tcp/\${hostport%:*}/\${hostport#*:}"
printf 'GET http://packages.invalid/probe-%s HTTP/1.0\\r\\n\\r\\n' "$RUN_ID" >&3
cat <&3 > /proxy-reply
`;

describe('build network and proxy', { timeout: 600_000 }, () => {
  let engine: Engine;
  let dir: string;
  let dockerConfig: string;
  let proxy: Server;
  const seen: string[] = [];

  before(async () => {
    engine = await connectEngine();
    proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('proxied\n');
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    dockerConfig = mkdtempSync(join(tmpdir(), 'idekube-dockercfg-'));
    writeFileSync(
      join(dockerConfig, 'config.json'),
      JSON.stringify({ proxies: { default: { httpProxy: `http://127.0.0.1:${port}`, noProxy: 'localhost' } } }),
    );
    dir = makeProject({
      '.dockerargs': `REGISTRY=${env.registry}\nAUTHOR=idekube-it\nNAME=network\nBASE_IMAGE=${env.baseImage}\n`,
      'flavors/layers/probe.yaml': 'run: install.sh\nargs:\n  RUN_ID: ""\n',
      'artifacts/layers/probe/install.sh': PROBE,
      'flavors/n/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [probe]\n',
    });
  });
  after(async () => {
    proxy.close();
    cleanup(dir);
    rmSync(dockerConfig, { recursive: true, force: true });
    await removeImages(engine, [image]);
  });

  const build = async (extra: string[], withProxy: boolean) => {
    const run = startCli(
      [
        '-C',
        dir,
        '--git-tag',
        id,
        '--set',
        `RUN_ID=${id}`,
        '--json',
        'build',
        'n/base',
        '--platform',
        'linux/amd64',
        '--driver',
        'docker',
        ...extra,
      ],
      withProxy ? { DOCKER_CONFIG: dockerConfig } : { DOCKER_CONFIG: join(dockerConfig, 'none') },
    );
    const { code } = await run.exit(300_000);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  };

  it('--network host: a RUN step reaches the proxy from config.json on the host loopback', async () => {
    const r = await build(['--network', 'host'], true);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).targets.map((t: { status: string }) => t.status),
      ['built'],
    );
    assert.deepEqual(seen, [`GET http://packages.invalid/probe-${id}`]);
    assert.match((await runOnce(engine, image, ['cat', '/proxy-reply'])).output, /^HTTP\/1\.\d 200 OK[\s\S]*\r\n\r\nproxied\n$/);
  });

  it('the proxy is not in the image: neither its environment nor its history', async () => {
    const info = await engine.getImage(image).inspect();
    assert.ok(!(info.Config.Env ?? []).some((e: string) => /proxy/i.test(e)), String(info.Config.Env));
    const history = await engine.getImage(image).history();
    const steps = history.map((h: { CreatedBy: string }) => h.CreatedBy);
    assert.ok(
      steps.some((s: string) => s.includes('layers/probe/install.sh')),
      steps.join('\n'),
    );
    assert.ok(!steps.some((s: string) => /proxy/i.test(s)), steps.join('\n'));
  });

  it('without the proxy config the same build is fully cached: proxy args are not part of the cache key', async () => {
    const r = await build(['--network', 'host'], false);
    assert.equal(r.code, 0, r.stderr);
    const [t] = JSON.parse(r.stdout).targets;
    assert.equal(t.status, 'cached');
    assert.equal(t.executed, 0);
    assert.equal(seen.length, 1);
  });

  it('on the default network the loopback proxy is out of reach: the step fails and says why', async () => {
    const r = await build(['--no-cache'], true);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /Connection refused|connect/i);
    assert.equal(seen.length, 1);
  });
});
