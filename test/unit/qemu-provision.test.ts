/**
 * Provisioning from the manifest, without a VM: systemd units from services, ENV semantics, the uploaded
 * payload (plan files, layers, generated nginx config), and the cache key's sensitivity to every input.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadProject } from '../../src/config/project.js';
import { keyOf, hashTree, canonicalJson } from '../../src/qemu/cache-key.js';
import { environmentFile, profileScript, walkEnv } from '../../src/qemu/env.js';
import { planInputs, provisionPlan, writePayload } from '../../src/qemu/payload.js';
import { vmServices, execStart } from '../../src/qemu/units.js';
import type { Service } from '../../src/config/model.js';
import { cleanup, makeProject, writeFile, type Files } from '../helpers/project.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const FILES: Files = {
  '.dockerargs': 'BASE_IMAGE=127.0.0.1:5000/x/debian:bookworm\nTZ=Etc/UTC\nGREETING=hello "world" $HOME\n',
  'flavors/layers/base.yaml': 'run: install.sh\nargs:\n  TZ: UTC\nenv:\n  TZ: ${TZ}\n  PATH: /opt/tool/bin:${PATH}\n',
  'artifacts/layers/base/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\necho base\n',
  'flavors/layers/ws.yaml': [
    'run: install.sh',
    'args:',
    '  GREETING: null',
    'copy:',
    '  - {src: files/, dest: /etc/ws/}',
    '  - {src: one.conf, dest: /etc/one.conf, chown: "1000:1000"}',
    'env:',
    '  WS_HOME: ${TZ}/ws',
    'services:',
    '  ssh:',
    '    check: ssh',
    '    routes:',
    '      - {path: /ssh, port: 2222, exact: true, websocket: true}',
    '    programs:',
    '      sshd: {command: /usr/sbin/sshd -D -e, priority: 20}',
    '      ssh-ws: {command: /usr/bin/websockify 127.0.0.1:2222 127.0.0.1:22, priority: 30}',
    '  web:',
    '    routes:',
    '      - {path: /web/, port: 8080}',
    '    programs:',
    '      web: {command: "/usr/bin/web --fmt 100% --home $HOME", user: idekube, environment: {A: "x y"}, priority: 40}',
    '',
  ].join('\n'),
  'artifacts/layers/ws/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\necho "$GREETING"\n',
  'artifacts/layers/ws/files/a.txt': 'a\n',
  'artifacts/layers/ws/one.conf': 'one\n',
  'flavors/web/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [base, ws]\nenv:\n  FLAVOR_ENV: "on"\n',
  'flavors/web/child/flavor.yaml': 'from:\n  parent: web/base\nlayers: [extra]\n',
  'flavors/layers/extra.yaml': 'run: install.sh\nargs:\n  EXTRA: "1"\n',
  'artifacts/layers/extra/install.sh': '#!/usr/bin/env bash\nset -euo pipefail\n',
};

const dirs: string[] = [];
const project = (overrides: Files = {}) => {
  const dir = makeProject(FILES, overrides);
  dirs.push(dir);
  return loadProject({ dir, sets: [], flags: {}, env: {} });
};
after(() => dirs.forEach(cleanup));

describe('services → systemd units', () => {
  const p = project();
  const { units, systemUnits } = vmServices('web/base', p.catalog.layers.get('ws')!.services as Service[]);
  it("sshd maps to the distribution's ssh.service; nginx.service is always enabled", () => {
    assert.deepEqual(systemUnits, ['nginx.service', 'ssh.service']);
    assert.deepEqual(
      units.map((u) => u.name),
      ['idekube-ssh-ws.service', 'idekube-web.service', 'idekube-health.service'],
    );
  });
  it('one unit per program, in priority order, with user, home and environment', () => {
    const web = units.find((u) => u.name === 'idekube-web.service')!.text;
    assert.match(web, /^User=idekube$/m);
    assert.match(web, /^WorkingDirectory=\/home\/idekube$/m);
    assert.match(web, /^Environment="A=x y" "HOME=\/home\/idekube" "USER=idekube"$/m);
    assert.match(web, /^After=idekube-ssh-ws\.service$/m);
    assert.match(web, /^EnvironmentFile=-\/etc\/idekube\/environment$/m);
    assert.match(web, /^Restart=always$/m);
    assert.match(web, /^WantedBy=multi-user\.target$/m);
  });
  it('% and $ stay literal, as in supervisord', () => {
    assert.equal(execStart('/usr/bin/web --fmt 100% --home $HOME'), '/usr/bin/web --fmt 100%% --home $$HOME');
    assert.match(units[1]!.text, /^ExecStart=\/usr\/bin\/web --fmt 100%% --home \$\$HOME$/m);
  });
});

describe('ENV like a Dockerfile', () => {
  const p = project();
  const args = { TZ: 'Etc/UTC', GREETING: 'hello "world" $HOME' };
  it('expands args and earlier ENV; unknown references stay for the login shell', () => {
    const st = walkEnv(p.catalog, 'web/base', args);
    assert.deepEqual(st.values, {
      TZ: 'Etc/UTC',
      PATH: '/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      WS_HOME: 'Etc/UTC/ws',
      FLAVOR_ENV: 'on',
    });
    const sh = profileScript('web/base', st);
    assert.match(sh, /^export PATH="\/opt\/tool\/bin:\$\{PATH\}"$/m);
    assert.match(sh, /^export WS_HOME="Etc\/UTC\/ws"$/m);
    const envFile = environmentFile('web/base', st);
    assert.match(envFile, /^PATH="\/opt\/tool\/bin:\/usr\/local\/sbin:/m);
  });
  it('each layer step sees the args declared so far and the ENV before it', () => {
    const seen: Array<[string, Record<string, string>, Record<string, string>]> = [];
    walkEnv(p.catalog, 'web/base', args, (v) => seen.push([v.layer.name, v.declared, v.env]));
    assert.deepEqual(seen[0], ['base', { TZ: 'Etc/UTC' }, {}]);
    assert.equal(seen[1]![0], 'ws');
    assert.deepEqual(seen[1]![1], { TZ: 'Etc/UTC', GREETING: 'hello "world" $HOME' });
    assert.equal(seen[1]![2].TZ, 'Etc/UTC');
  });
});

describe('the provisioning payload', () => {
  const p = project();
  const plan = provisionPlan(p, 'web/base', false);
  const staging = mkdtempSync(join(tmpdir(), 'idekube-payload-'));
  dirs.push(staging);
  const root = writePayload(p, plan, staging);
  it('lists the layer steps in order', () => {
    assert.equal(readFileSync(join(root, 'plan/steps'), 'utf8'), '01 base\n02 ws\n');
    assert.equal(readFileSync(join(root, 'plan/02/run'), 'utf8'), 'install.sh');
  });
  it('passes values as NUL-separated KEY=VALUE (quotes and $ intact, no shell text)', () => {
    const env = readFileSync(join(root, 'plan/02/env'), 'utf8').split('\0').filter(Boolean);
    assert.ok(env.includes('GREETING=hello "world" $HOME'));
    assert.ok(env.includes('TZ=Etc/UTC'));
    assert.ok(env.some((e) => e.startsWith('PATH=/opt/tool/bin:')));
  });
  it('keeps copy: entries as data (Docker COPY semantics run in the guest)', () => {
    assert.deepEqual(readFileSync(join(root, 'plan/02/copy'), 'utf8').split('\0'), [
      'files/',
      '/etc/ws/',
      '',
      'one.conf',
      '/etc/one.conf',
      '1000:1000',
      '',
    ]);
  });
  it("uploads the layers' folders, the script library, the guest files and the driver", () => {
    for (const f of [
      'layers/base/install.sh',
      'layers/ws/files/a.txt',
      'lib/common.sh',
      'guest/usr/local/lib/idekube/vm/seed.sh',
      'provision.sh',
    ])
      assert.ok(existsSync(join(root, f)), f);
    assert.ok(statSync(join(root, 'provision.sh')).mode & 0o100);
  });
  it('generates the same nginx configuration as the container, plus units and env files', () => {
    const nginx = readFileSync(join(root, 'files/etc/nginx/conf.d/idekube.conf'), 'utf8');
    assert.match(nginx, /location = \/ \{[^}]*\}[^}]*try_files \/index\.html =404;/);
    for (const f of [
      'etc/nginx/idekube/access.conf',
      'etc/nginx/idekube/listen.conf',
      'usr/share/idekube/www/index.html',
      'etc/idekube/health.json',
      'usr/local/lib/idekube/health-server.py',
      'etc/systemd/system/idekube-health.service',
    ])
      assert.ok(existsSync(join(root, 'files', f)), f);
    assert.match(nginx, /location = \/ssh \{[\s\S]*?proxy_pass http:\/\/127\.0\.0\.1:2222\/;[^}]*Upgrade/);
    for (const f of [
      'etc/systemd/system/idekube-ssh-ws.service',
      'etc/profile.d/idekube-env.sh',
      'etc/idekube/environment',
      'etc/idekube/flavor.json',
    ])
      assert.ok(existsSync(join(root, 'files', f)), f);
    assert.equal(readFileSync(join(root, 'plan/system-units'), 'utf8'), 'nginx.service\nssh.service\n');
  });
  it("uploads a flavor's VM-only step (flavors/<f>/<v>/qemu/) to run after the services", () => {
    const pv = project({ 'flavors/web/base/qemu/provision.sh': '#!/usr/bin/env bash\necho vm-only\n' });
    const pl = provisionPlan(pv, 'web/base', false);
    assert.equal(pl.vmScript, true);
    assert.equal(pl.playbook, false);
    const st = mkdtempSync(join(tmpdir(), 'idekube-payload-'));
    dirs.push(st);
    const r = writePayload(pv, pl, st);
    assert.equal(readFileSync(join(r, 'vm-step/provision.sh'), 'utf8'), '#!/usr/bin/env bash\necho vm-only\n');
    assert.ok(readFileSync(join(r, 'plan/flavor-env'), 'utf8').split('\0').includes('TZ=Etc/UTC'));
  });
  it('refuses a layer that copies from an image (no VM equivalent), naming its file', () => {
    const pc = project({
      'flavors/layers/blob.yaml': 'copyFrom: {image: "example/blob:1", src: /opt/blob, dest: /opt/blob}\n',
      'flavors/web/blob/flavor.yaml': 'from:\n  parent: web/base\nlayers: [blob]\n',
    });
    assert.throws(
      () => provisionPlan(pc, 'web/blob', true),
      (e: Error & { location?: { file?: string } }) =>
        /copies files from an image/.test(e.message) && e.location?.file === 'flavors/layers/blob.yaml',
    );
  });
  it("a derived flavor runs only its own layers (its parent's disk has the rest), with every service", () => {
    const child = provisionPlan(p, 'web/child', true);
    assert.deepEqual(
      child.steps.map((s) => s.layer),
      ['extra'],
    );
    assert.deepEqual(child.units, ['idekube-ssh-ws.service', 'idekube-web.service', 'idekube-health.service']);
    assert.deepEqual(
      provisionPlan(p, 'web/child', false).steps.map((s) => s.layer),
      ['base', 'ws', 'extra'],
    );
  });
});

describe('cache keys', () => {
  const key = (pr: ReturnType<typeof project>) => keyOf(planInputs(pr, provisionPlan(pr, 'web/base', false)));
  const k0 = key(project());
  it('are stable for the same inputs, whatever the key order', () => {
    assert.equal(key(project()), k0);
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    assert.match(k0, /^[0-9a-f]{16}$/);
  });
  const changes: Array<[string, Files]> = [
    ['a layer script byte', { 'artifacts/layers/ws/install.sh': `${FILES['artifacts/layers/ws/install.sh']}# changed\n` }],
    ['a copied file', { 'artifacts/layers/ws/files/a.txt': 'b\n' }],
    ['a new file in a layer folder', { 'artifacts/layers/base/extra.txt': 'x' }],
    ['a build arg', { '.dockerargs': FILES['.dockerargs']!.replace('Etc/UTC', 'Europe/Paris') }],
    ['the flavor manifest', { 'flavors/web/base/flavor.yaml': `${FILES['flavors/web/base/flavor.yaml']}labels: {a: b}\n` }],
    ['a layer manifest', { 'flavors/layers/base.yaml': `${FILES['flavors/layers/base.yaml']}description: x\n` }],
    ['the script library', { 'artifacts/lib/common.sh': "# the project's own library\n" }],
    ['a service', { 'flavors/layers/ws.yaml': FILES['flavors/layers/ws.yaml']!.replace('port: 8080', 'port: 8081') }],
    ['a VM-only step', { 'flavors/web/base/qemu/provision.sh': 'echo vm\n' }],
  ];
  for (const [what, files] of changes) it(`change when ${what} changes`, () => assert.notEqual(key(project(files)), k0));
  it('hashTree sees names, contents and the executable bit', () => {
    const d = makeProject({ 'x/a.sh': 'a' });
    dirs.push(d);
    const h0 = hashTree(join(d, 'x'));
    writeFile(d, 'x/a.sh', 'b');
    assert.notEqual(hashTree(join(d, 'x')), h0);
    assert.equal(hashTree(join(d, 'missing')), 'absent');
  });
});
