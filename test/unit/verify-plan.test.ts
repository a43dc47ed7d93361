/**
 * What `idekube test` decides before anything runs: which checks an image gets (from its services and env, never
 * its name), which images and platforms, what a test container looks like, and how results are printed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/config/errors.js';
import { loadProject } from '../../src/config/project.js';
import { parseTestFlags } from '../../src/cli/commands/test.js';
import { withTestDriver } from '../../src/cli/build-options.js';
import { clientUrl, looksDrawn } from '../../src/verify/checks/screenshot.js';
import { createOptions, NAME_PREFIX, slug, tarOf, TestSession } from '../../src/verify/container.js';
import { describeReadiness } from '../../src/verify/ready.js';
import { metadataVerdict, planChecks } from '../../src/verify/registry.js';
import { checkLine, imageLines, makeReport, screenshotPath, summaryLine } from '../../src/verify/report.js';
import { catalogSubjects, emulationFactor, mainIndex, mainOf, nativePlatform, servicesFromMetadata } from '../../src/verify/subject.js';
import type { ImageFacts, ImageReport, Subject, VerifyService } from '../../src/verify/types.js';
import { REPO_ROOT } from '../helpers/project.js';

const facts = (over: Partial<ImageFacts> = {}): ImageFacts => ({
  id: 'x',
  architecture: 'amd64',
  env: { USERNAME: 'idekube' },
  labels: {},
  entrypoint: ['/startup.sh'],
  shells: ['/bin/bash', '/bin/zsh'],
  user: { name: 'idekube', uid: 1000, gid: 1000, home: '/home/idekube', shell: '/bin/bash' },
  skel: ['.bashrc'],
  skelExists: true,
  hasRuntime: true,
  hasDetectGpu: true,
  metadata: { flavor: 'x/y', services: [] },
  ...over,
});
const ssh: VerifyService = {
  name: 'ssh',
  check: 'ssh',
  routes: [{ path: '/ssh', port: 2222, exact: true, websocket: true, open: true }],
  programs: ['sshd', 'ssh-ws'],
};
const terminal: VerifyService = {
  name: 'terminal',
  check: 'terminal',
  routes: [{ path: '/terminal/', port: 7681, keepPrefix: true, websocket: true }],
  programs: ['terminal'],
  main: true,
};
const vnc: VerifyService = {
  name: 'vnc',
  check: 'vnc',
  routes: [
    { path: '/vnc/', port: 6081 },
    { path: '/vnc/websockify', port: 6081, exact: true, websocket: true, upstream: '/websockify' },
  ],
  programs: ['vnc', 'novnc'],
};
const subject = (services: VerifyService[], flavor = 'any/name'): Subject => ({
  flavor,
  image: 'r/x:t',
  platform: 'linux/amd64',
  services,
  source: 'catalog',
});
const names = (s: Subject, f = facts(), screenshot = false) => planChecks(s, f, { screenshot }).map((p) => p.name);

const RUNTIME = ['programs', 'users', 'home init', 'home volume', 'home keeps changes', 'shell', 'hooks'];
/** The access token, /health's transitions, IPv6 and the home volume, for an image with routes (skipped ones included). */
const ACCESS = [
  'access open',
  'ipv6',
  'auth 401',
  'auth query',
  'auth header',
  'auth cookie',
  'auth websocket',
  'auth open routes',
  'auth secret',
  'health degraded',
  'health 502',
  'access invalid',
  'uid remap',
];

describe('checks come from the services an image declares, not its name', () => {
  it('an SSH base: nginx, the SSH banner and login, and the runtime init', () => {
    assert.deepEqual(names(subject([ssh])), [
      'metadata',
      'nginx',
      'landing',
      'health',
      'ssh banner',
      'ssh login',
      ...RUNTIME,
      ...ACCESS,
      'host key kept',
      'bad keys',
      'any uid',
      'init container',
      'chroot',
    ]);
  });
  it('a desktop: the redirect, the vnc check, gpu (never silently passed) and, when asked, a screenshot', () => {
    const n = names(subject([ssh, vnc]), facts(), true);
    for (const x of ['redirect /vnc', 'vnc', 'gpu', 'screenshot']) assert.ok(n.includes(x), x);
    assert.ok(!names(subject([ssh, vnc])).includes('screenshot'));
  });
  it('the same services under another flavor name give the same checks', () => {
    assert.deepEqual(names(subject([ssh, vnc], 'featured/base')), names(subject([ssh, vnc], 'something/else')));
  });
  it('coder, jupyter, dind and http services get their own checks; check: none is skipped with a reason', () => {
    const svc = (name: string, check: VerifyService['check'], path: string): VerifyService => ({
      name,
      check,
      routes: [{ path, port: 1 }],
      programs: [],
    });
    const plan = planChecks(
      subject([
        svc('coder', 'coder', '/coder/'),
        svc('jupyter', 'jupyter', '/jupyter/'),
        svc('docker', 'dind', '/x/'),
        svc('web', 'http', '/web/'),
        svc('quiet', 'none', '/q/'),
      ]),
      facts(),
      { screenshot: false },
    );
    const n = plan.map((p) => p.name);
    for (const x of ['redirect /coder', 'coder', 'jupyter', 'dind docker', 'http /web/', 'redirect /web'])
      assert.ok(n.includes(x), `${x} in ${n.join(', ')}`);
    assert.deepEqual(
      plan.find((p) => p.name === 'quiet'),
      { name: 'quiet', group: 'skip', from: 'service quiet (check: none)', reason: 'service quiet declares check: none' },
    );
    assert.ok(!n.includes('bad keys'), 'no SSH service: no authorized-keys scenario');
  });
  it('env VGL_DISPLAY asks for the GPU check even without a desktop service', () => {
    assert.ok(names(subject([ssh]), facts({ env: { VGL_DISPLAY: 'egl' } })).includes('gpu'));
    assert.ok(!names(subject([ssh])).includes('gpu'));
  });
  it('an image without the runtime init gets no runtime checks', () => {
    const n = names(subject([ssh]), facts({ hasRuntime: false }));
    for (const x of RUNTIME) assert.ok(!n.includes(x), x);
  });
  it('the SSH login uses USERNAME from the image env', () => {
    const login = planChecks(subject([ssh]), facts({ env: { USERNAME: 'dev' } }), { screenshot: false }).find(
      (p) => p.name === 'ssh login',
    )!;
    assert.match(login.from, /USERNAME=dev/);
  });
});

describe('the landing page, /health, the terminal, the access token, IPv6 and the home volume: from what the image declares', () => {
  const plan = (services: VerifyService[], f = facts()) => planChecks(subject(services), f, { screenshot: false });
  const find = (p: ReturnType<typeof plan>, name: string) => p.find((x) => x.name === name)!;
  it('an SSH base with a terminal (the main service): every new check, in the container it needs', () => {
    const p = plan([ssh, terminal]);
    const groups = Object.fromEntries(p.map((x) => [x.name, x.group]));
    for (const n of ['landing', 'health', 'terminal', 'access open', 'ipv6']) assert.equal(groups[n], 'main', n);
    for (const n of [
      'auth 401',
      'auth query',
      'auth header',
      'auth cookie',
      'auth websocket',
      'auth open routes',
      'auth secret',
      'health degraded',
      'health 502',
    ])
      assert.equal(groups[n], 'access', n);
    assert.equal(groups['access invalid'], 'access-invalid');
    assert.equal(groups['uid remap'], 'volume');
    assert.equal(groups['host key kept'], 'volume');
    assert.match(find(p, 'auth 401').from, /GET \/terminal\/$/, "the main service's first route");
    assert.match(find(p, 'auth websocket').from, /WebSocket \/terminal\/ws \(the terminal of service terminal\)/);
    assert.match(find(p, 'auth open routes').from, /\/ssh, \/health without it/);
    assert.deepEqual(
      [find(p, 'health degraded').service, find(p, 'health 502').service, find(p, 'uid remap').service],
      ['ssh', 'terminal', 'terminal'],
    );
  });
  it('the same checks whatever the flavor is called', () => {
    assert.deepEqual(
      planChecks(subject([ssh, terminal], 'featured/base'), facts(), { screenshot: false }),
      planChecks(subject([ssh, terminal], 'x/y'), facts(), { screenshot: false }),
    );
  });
  it('one service with a route: health degraded skipped; no terminal: uid remap skipped (the host key still kept); no protected WebSocket: skipped', () => {
    const p = plan([ssh]);
    assert.deepEqual(find(p, 'health degraded'), {
      name: 'health degraded',
      group: 'skip',
      from: 'the runtime init (/startup.sh): /health with services stopped (supervisorctl)',
      reason: 'only one service has a route: no secondary service to stop',
    });
    assert.match(find(p, 'uid remap').reason!, /no terminal service \(check: terminal\)/);
    assert.equal(find(p, 'host key kept').group, 'volume');
    assert.match(find(p, 'auth websocket').reason!, /no protected WebSocket/);
    assert.equal(find(p, 'health 502').service, 'ssh', 'no main: true: the first service with a route');
    assert.match(find(p, 'auth 401').from, /GET \/$/, 'the main service has only open routes: the landing page');
  });
  it('no user: the home-volume checks are skipped, saying why', () => {
    const p = plan([ssh, terminal], facts({ user: undefined }));
    assert.match(find(p, 'uid remap').reason!, /no user idekube/);
    assert.match(find(p, 'host key kept').reason!, /no user idekube/);
  });
  it("a desktop marked main: /health's 502 expected when it stops; the noVNC bridge is the protected WebSocket", () => {
    const p = plan([ssh, { ...vnc, main: true }]);
    assert.equal(find(p, 'health 502').service, 'vnc');
    assert.equal(find(p, 'health degraded').service, 'ssh');
    assert.match(find(p, 'auth websocket').from, /WebSocket \/vnc\/websockify/);
    assert.match(find(p, 'auth 401').from, /GET \/vnc\/$/);
  });
  it('two terminals get a check each; without the runtime init only nginx, the landing page and /health', () => {
    const t2 = { ...terminal, name: 'shell2', main: false, routes: [{ path: '/shell2/', port: 7682 }] };
    assert.ok(names(subject([terminal, t2])).includes('terminal shell2'));
    assert.ok(names(subject([terminal, t2])).includes('terminal terminal'));
    const bare = names(subject([ssh, terminal]), facts({ hasRuntime: false }));
    for (const n of ['nginx', 'landing', 'health', 'terminal']) assert.ok(bare.includes(n), n);
    for (const n of ACCESS) assert.ok(!bare.includes(n), n);
  });
  it('services without routes: no nginx, no landing page, no token checks', () => {
    const n = names(subject([{ name: 'docker', check: 'dind', routes: [], programs: ['dockerd'] }]));
    for (const x of ['nginx', 'landing', 'health', 'auth 401', 'ipv6', 'access open']) assert.ok(!n.includes(x), x);
  });
});

describe('the main service: the last main: true, else the first service with a route', () => {
  const r = [{ path: '/a/', port: 1 }];
  it('the rule', () => {
    assert.equal(mainIndex([{ routes: [] }, { routes: r }, { routes: r }]), 1);
    assert.equal(mainIndex([{ routes: r, main: true }, { routes: r }, { routes: r, main: true }, { routes: [] }]), 2);
    assert.equal(mainIndex([{ routes: [] }]), -1);
    // as the generator (landing.ts mainService): main: true on a service without a route is not the main one
    assert.equal(mainIndex([{ routes: r }, { routes: [], main: true }]), 0);
    assert.equal(mainOf([ssh, { ...vnc, main: true }])?.name, 'vnc');
  });
  it('from flavor.json: the top-level main, else per-service main (the last wins), else the rule; on one service only', () => {
    const svcs = [
      { name: 'a', routes: r },
      { name: 'b', routes: r, main: true },
      { name: 'c', routes: r, main: true },
    ];
    const main = (m: Parameters<typeof servicesFromMetadata>[0]) =>
      servicesFromMetadata(m)
        .filter((s) => s.main)
        .map((s) => s.name);
    assert.deepEqual(main({ services: svcs }), ['c']);
    assert.deepEqual(main({ main: 'b', services: svcs }), ['b']);
    assert.deepEqual(main({ main: 'gone', services: svcs }), ['c'], 'a top-level main naming no service: the rule');
    assert.deepEqual(main({ services: [{ name: 'x' }, { name: 'y', routes: r }] }), ['y']);
    assert.equal(
      servicesFromMetadata({ services: [{ name: 't', check: 'terminal', routes: r }] })[0]!.check,
      'terminal',
      'terminal is a known kind',
    );
  });
});

describe('metadata: the image is the flavor it claims to be', () => {
  it('passes when labels and flavor.json agree', () => {
    assert.match(
      metadataVerdict(
        subject([ssh], 'web/base'),
        facts({
          labels: { 'io.idekube.flavor': 'web/base', 'io.idekube.services': 'ssh' },
          metadata: { flavor: 'web/base', lineage: ['web/base'] },
        }),
      ),
      /web\/base: services ssh, lineage web\/base/,
    );
  });
  it('fails on a stale image whose services differ from the catalog', () => {
    assert.throws(
      () =>
        metadataVerdict(
          subject([ssh, vnc], 'desk/base'),
          facts({ labels: { 'io.idekube.flavor': 'desk/base', 'io.idekube.services': 'ssh' } }),
        ),
      /declares services "ssh" \(label io\.idekube\.services\) where desk\/base has "ssh,vnc".*stale image\? rebuild it/,
    );
  });
  it("fails on another flavor's image", () => {
    assert.throws(
      () =>
        metadataVerdict(subject([ssh], 'web/base'), facts({ labels: { 'io.idekube.flavor': 'web/extra', 'io.idekube.services': 'ssh' } })),
      /label io\.idekube\.flavor is web\/extra, not web\/base/,
    );
  });
  it('services from /etc/idekube/flavor.json (an unknown check kind counts as http)', () => {
    assert.deepEqual(
      servicesFromMetadata({
        services: [
          { name: 'a', check: 'ssh', routes: [], programs: ['x'] },
          { name: 'b', check: 'future-kind' },
        ],
      }),
      [
        { name: 'a', check: 'ssh', routes: [], programs: ['x'] },
        { name: 'b', check: 'http', routes: [], programs: [] },
      ],
    );
  });
});

describe('subjects: catalog flavors × platforms', () => {
  const project = loadProject({ dir: `${REPO_ROOT}/test/fixtures/catalog`, sets: [], flags: { GIT_TAG: 'v9.9.9' }, env: {} });
  it("default: this machine's platform; per-arch tags of the catalog", () => {
    const { subjects } = catalogSubjects(project, ['web/base'], undefined);
    assert.deepEqual(
      subjects.map((s) => [s.platform, s.image]),
      [[nativePlatform(), `127.0.0.1:5000/idekube-test/fixture:web-base-v9.9.9-${nativePlatform().split('/')[1]}`]],
    );
    assert.deepEqual(
      subjects[0]!.services.map((s) => `${s.name}:${s.check}${s.main ? ' (main)' : ''}`),
      ['ssh:ssh', 'terminal:terminal (main)'],
    );
  });
  it('--platform: only platforms the flavor builds; a note for the others', () => {
    const { subjects, notes } = catalogSubjects(project, ['web/base', 'desk/base'], ['linux/arm64']);
    assert.deepEqual(
      subjects.map((s) => `${s.flavor}@${s.platform}`),
      ['web/base@linux/arm64'],
    );
    assert.match(notes[0]!, /desk\/base: not tested, it builds linux\/amd64/);
  });
  it("inherited services: a child is tested for its parent's services too", () => {
    const { subjects } = catalogSubjects(project, ['web/jupyter'], ['linux/amd64']);
    assert.deepEqual(
      subjects[0]!.services.map((s) => `${s.check}${s.main ? ' (main)' : ''}`),
      ['ssh', 'terminal', 'jupyter (main)'],
      'the last main: true wins',
    );
  });
  it('emulated platforms wait three times as long', () => {
    assert.equal(emulationFactor(nativePlatform()), 1);
    assert.equal(emulationFactor(nativePlatform() === 'linux/amd64' ? 'linux/arm64' : 'linux/amd64'), 3);
  });
});

describe('test containers', () => {
  it('publish port 80 on 127.0.0.1 only, on a port the engine picks', () => {
    const o = createOptions({
      name: 'idekube-test-a-main',
      image: 'r/x:t',
      platform: 'linux/arm64',
      env: { B: '2', A: '1 $x' },
      publish: true,
      mounts: [
        { volume: 'v', target: '/home/idekube', nocopy: true },
        { volume: 'h', target: '/etc/idekube/startup.bash' },
      ],
      labels: { l: '1' },
    }) as Record<string, any>;
    assert.deepEqual(o.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    assert.deepEqual(o.Env, ['A=1 $x', 'B=2']);
    assert.equal(o.platform, 'linux/arm64');
    assert.deepEqual(o.HostConfig.Mounts, [
      { Type: 'volume', Source: 'v', Target: '/home/idekube', VolumeOptions: { NoCopy: true } },
      { Type: 'volume', Source: 'h', Target: '/etc/idekube/startup.bash' },
    ]);
    assert.equal(o.HostConfig.Privileged, false);
    assert.equal(o.User, undefined);
  });
  it('an arbitrary uid, privileged, capabilities, GPUs, no published port', () => {
    const o = createOptions({
      name: 'n',
      image: 'i',
      platform: 'linux/amd64',
      env: {},
      user: '12345',
      privileged: true,
      capAdd: ['SYS_ADMIN'],
      securityOpt: ['apparmor=unconfined'],
      gpus: true,
      publish: false,
      mounts: [],
      labels: {},
    }) as Record<string, any>;
    assert.equal(o.User, '12345');
    assert.equal(o.HostConfig.Privileged, true);
    assert.deepEqual(o.HostConfig.CapAdd, ['SYS_ADMIN']);
    assert.deepEqual(o.HostConfig.SecurityOpt, ['apparmor=unconfined']);
    assert.equal(o.HostConfig.DeviceRequests[0].Count, -1);
    assert.equal(o.HostConfig.PortBindings, undefined);
  });
  it('names start with idekube-test-<session>- and are valid container names', () => {
    const s = new TestSession({} as never, 'abc123');
    const n = s.name('web/base-amd64', 'main');
    assert.equal(n, `${NAME_PREFIX}abc123-web-base-amd64-main`);
    assert.match(n, /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    assert.equal(slug('Featured/Base@linux/arm64'), 'featured-base-linux-arm64');
  });
  it('the hook travels as a tar archive (mode 0644, content intact)', () => {
    const tar = tarOf([{ name: '50-idekube-test.sh', text: 'echo "$HOME" ünïcode\n', mode: 0o644 }]);
    assert.equal(tar.length % 512, 0);
    assert.equal(tar.subarray(0, 18).toString(), '50-idekube-test.sh');
    assert.equal(tar.subarray(100, 107).toString(), '0000644');
    const size = parseInt(tar.subarray(124, 135).toString(), 8);
    assert.equal(tar.subarray(512, 512 + size).toString('utf8'), 'echo "$HOME" ünïcode\n');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : tar[i]!;
    assert.equal(parseInt(tar.subarray(148, 154).toString(), 8), sum);
  });
  it('readiness failures read as sentences', () => {
    assert.match(
      describeReadiness({ nginx: false, pending: [], fatal: [], waitedMs: 20_000 }, 3000),
      /nothing answered HTTP on port 80 \(127\.0\.0\.1:3000\) within 20 s/,
    );
    assert.match(
      describeReadiness({ nginx: true, pending: ['/jupyter/'], fatal: ['jupyter'], waitedMs: 9000 }, 1),
      /still 502\/504 after 9 s: \/jupyter\/; supervisord gave up on: jupyter/,
    );
    assert.match(
      describeReadiness({ nginx: false, pending: [], fatal: [], exited: { code: 1, logs: 'boom' }, waitedMs: 1 }, 1),
      /exited with code 1 before it served; last log lines:\nboom/,
    );
  });
});

describe('report', () => {
  const r: ImageReport = {
    session: 's1',
    flavor: 'desk/base',
    image: 'r/x:t',
    platform: 'linux/amd64',
    passed: false,
    checks: [
      { name: 'nginx', status: 'pass', message: 'port 80 answers', durationMs: 3 },
      { name: 'gpu', status: 'skipped', message: 'no GPU (no /dev/nvidiactl)', durationMs: 1 },
      { name: 'ssh login', status: 'fail', message: 'refused\nsecond line', durationMs: 2 },
    ],
    kept: [],
    durationMs: 1234,
  };
  it('one line per check: pass / FAIL / skipped: why', () => {
    assert.equal(checkLine(r, r.checks[1]!, 10), 'desk/base@linux/amd64  gpu        skipped: no GPU (no /dev/nvidiactl)');
    assert.equal(checkLine(r, r.checks[2]!, 10), 'desk/base@linux/amd64  ssh login  FAIL: refused\n    | second line');
    assert.equal(summaryLine(r), 'desk/base@linux/amd64: FAILED — 1 passed, 1 failed, 1 skipped in 1.2 s');
    assert.equal(imageLines(r).length, 4);
  });
  it('the run passes only when every image passed', () => {
    assert.equal(makeReport([r], Date.now()).passed, false);
    assert.equal(makeReport([{ ...r, passed: true }], Date.now()).passed, true);
    assert.equal(makeReport([], Date.now()).passed, false);
  });
  it('one screenshot file per desktop image when several are tested', () => {
    assert.equal(screenshotPath('/tmp/d.png', 'desk/base@linux/amd64', false), '/tmp/d.png');
    assert.equal(screenshotPath('/tmp/d.png', 'desk/base@linux/amd64', true), '/tmp/d-desk-base-linux-amd64.png');
  });
  it("the screenshot opens noVNC on the service's own routes and waits for a drawn desktop", () => {
    assert.equal(clientUrl(4000, vnc), 'http://127.0.0.1:4000/vnc/vnc.html?autoconnect=1&resize=scale&reconnect=1&path=vnc/websockify');
    assert.equal(looksDrawn({ width: 1280, height: 800, colors: 1, top: 1, status: '' }), false, 'a black screen');
    assert.equal(looksDrawn({ width: 1280, height: 800, colors: 3, top: 0.99, status: '' }), false, 'a cursor on a flat background');
    assert.equal(looksDrawn({ width: 0, height: 0, colors: 0, top: 1, status: 'Failed to connect' }), false);
    assert.equal(looksDrawn({ width: 1280, height: 800, colors: 96, top: 0.94, status: '' }), true, 'the XFCE desktop');
  });
});

describe('flags', () => {
  const bad = (raw: Record<string, string>, re: RegExp) =>
    assert.throws(
      () => parseTestFlags(raw, {}),
      (e: Error) => e instanceof InputError && re.test(e.message),
    );
  it('defaults', () => {
    assert.deepEqual(parseTestFlags({}, {}), { all: false, keep: false, timeoutS: 120, jobs: 2, gpus: 'auto' });
  });
  it('bad values are input errors (exit 2)', () => {
    bad({ timeout: '0' }, /--timeout "0" is not a whole number/);
    bad({ timeout: '10s' }, /--timeout "10s"/);
    bad({ jobs: 'many' }, /--jobs "many"/);
    bad({ gpus: 'some' }, /--gpus "some" is not allowed/);
    bad({ platform: 'linux/riscv64' }, /unsupported platform "linux\/riscv64"/);
    bad({ image: 'Not A Ref' }, /--image/);
    bad({ screenshot: ' ' }, /--screenshot needs a file name/);
  });
  it('build --test uses the docker driver; buildx and remote engines are refused', () => {
    assert.equal(withTestDriver<{ test?: boolean; driver?: string }>({ test: true }).driver, 'docker');
    assert.equal(withTestDriver({ test: true, driver: 'auto' }).driver, 'docker');
    assert.deepEqual(withTestDriver({ driver: 'buildx' }), { driver: 'buildx' }, 'without --test nothing changes');
    assert.throws(() => withTestDriver({ test: true, driver: 'buildx' }), /--test cannot be combined with --driver buildx/);
    assert.throws(() => withTestDriver({ test: true, engine: ['linux/arm64=ssh://h'] }), /cannot be combined with --engine/);
  });
});
