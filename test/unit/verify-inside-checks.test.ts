/**
 * The checks that look inside a container (through an Exec), with fake answers: supervisord programs, process
 * owners, GPU rendering, dind, the home folder, the login shell, hooks, the persistent root. Each passes on what a
 * working image shows and fails, saying what is wrong, on what a broken one shows. The GPU's "present" path runs
 * the runtime's real detect-gpu.sh (forced with IDEKUBE_GPU=nvidia) with a stub vglrun on PATH.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkDind } from '../../src/verify/checks/dind.js';
import { checkGpu, DETECT_GPU, parseDetection, parseGlxinfo, rendererVerdict } from '../../src/verify/checks/gpu.js';
import { checkOwners, declaredUsers } from '../../src/verify/checks/owners.js';
import { checkPrograms, interestingLogLines, parseStatus } from '../../src/verify/checks/programs.js';
import { describeProcess, PROC_COMMAND, PROC_LOOP, PROC_PYTHON, parseProcesses, subtree, type Exec } from '../../src/verify/exec.js';
import { parseProbe, PROBE_SCRIPT } from '../../src/verify/image.js';
import { fatalFromLogs } from '../../src/verify/ready.js';
import { checkHomeInit, checkHomeKeeps, checkHomeVolume, fileToChange, parseHashes } from '../../src/verify/runtime/home.js';
import { checkHooks, HOOK_TEXT } from '../../src/verify/runtime/hooks.js';
import { chrootVerdict, copyVerdict, parseCopy } from '../../src/verify/runtime/rootfs.js';
import { checkShell, pickShell } from '../../src/verify/runtime/shell.js';
import { CheckFailed, CheckSkipped, type ImageFacts } from '../../src/verify/types.js';
import { fakeExec, localExec } from '../helpers/fake-servers.js';
import { REPO_ROOT } from '../helpers/project.js';

async function fails(
  p: Promise<unknown> | (() => unknown),
  re: RegExp,
  kind: typeof CheckFailed | typeof CheckSkipped = CheckFailed,
): Promise<void> {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (e: Error) => {
      assert.ok(e instanceof kind, `a ${kind.name}, got ${e.constructor.name}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

const facts = (over: Partial<ImageFacts> = {}): ImageFacts => ({
  id: 'sha256:x',
  architecture: 'amd64',
  env: { USERNAME: 'idekube' },
  labels: {},
  entrypoint: ['/startup.sh'],
  shells: ['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/bash', '/bin/rbash', '/usr/bin/dash', '/bin/zsh', '/usr/bin/zsh'],
  user: { name: 'idekube', uid: 1000, gid: 1000, home: '/home/idekube', shell: '/bin/bash' },
  skel: ['.bash_logout', '.bashrc', '.profile'],
  skelExists: true,
  hasRuntime: true,
  hasDetectGpu: true,
  ...over,
});

const STATUS_OK =
  'nginx                            RUNNING   pid 107, uptime 0:00:03\nssh-ws                           RUNNING   pid 106, uptime 0:00:03\nsshd                             RUNNING   pid 105, uptime 0:00:03\nvnc                              RUNNING   pid 57, uptime 0:00:07\n';

describe('programs: every supervisord program is RUNNING', () => {
  it('parses supervisorctl status', () => {
    assert.deepEqual(
      parseStatus('sshd   FATAL     Exited too quickly (process log may have details)\nvnc  RUNNING   pid 57, uptime 0:00:07\n'),
      [
        { name: 'sshd', state: 'FATAL', detail: 'Exited too quickly (process log may have details)' },
        { name: 'vnc', state: 'RUNNING', pid: 57, detail: 'pid 57, uptime 0:00:07' },
      ],
    );
  });
  it('passes when all run', async () => {
    const exec = fakeExec({ 'supervisorctl status': { stdout: STATUS_OK } });
    assert.match(await checkPrograms(exec, async () => '', 2000), /4 programs RUNNING: nginx, ssh-ws, sshd, vnc/);
  });
  it('fails naming the program, its state and its own log line', async () => {
    const exec = fakeExec({
      'supervisorctl status': {
        code: 3,
        stdout: 'sshd   FATAL     Exited too quickly (process log may have details)\nnginx  RUNNING   pid 3, uptime 0:00:09\n',
      },
    });
    const logs =
      'Server listening\n/etc/ssh/sshd_config.d/00-broken.conf: line 1: Bad configuration option: ThisIsNotAnOption\n2026-11-28 10:01:04,175 INFO gave up: sshd entered FATAL state, too many start retries too quickly\n127.0.0.1 - - connecting to: 127.0.0.1:22\n';
    await fails(
      checkPrograms(exec, async () => logs, 2000),
      /sshd is FATAL \(Exited too quickly.*log: .*Bad configuration option: ThisIsNotAnOption/,
    );
  });
  it('waits (bounded) while programs are STARTING', async () => {
    let n = 0;
    const exec: Exec = async () => ({
      code: 0,
      stdout: n++ < 2 ? 'vnc  STARTING\n' : 'vnc  RUNNING   pid 9, uptime 0:00:01\n',
      stderr: '',
    });
    assert.match(await checkPrograms(exec, async () => '', 10_000), /1 programs RUNNING: vnc/);
  });
  it('log lines naming the failed program come first', () => {
    assert.deepEqual(interestingLogLines('a\n[idekube-vnc] ERROR: session script /x is missing\nb\n', ['vnc']), [
      '[idekube-vnc] ERROR: session script /x is missing',
    ]);
  });
  it('supervisord\'s "gave up" lines tell readiness to stop waiting', () => {
    assert.deepEqual(fatalFromLogs('x\n2026 INFO gave up: nginx entered FATAL state, too many start retries too quickly\n'), ['nginx']);
  });
});

const CONF =
  '[program:nginx]\ncommand=/usr/sbin/nginx -g "daemon off;"\n\n[program:vnc]\ncommand=/usr/local/lib/idekube/vnc-server.sh\nuser=idekube   ; the desktop user\n\n[program:rootweb]\ncommand=/usr/bin/sudo -n python3 -m http.server\nuser=idekube\n';
const PROCS = [
  '1\t0\t0\t/\ttini\t/usr/bin/tini -- supervisord',
  '10\t1\t0\t/\tsupervisord\t/usr/bin/python3 /usr/bin/supervisord',
  '107\t10\t0\t/\tnginx\tnginx: master process',
  '108\t107\t33\t/\tnginx\tnginx: worker process',
  '57\t10\t1000\t/\tbash\tbash /usr/local/lib/idekube/vnc-server.sh',
  '81\t57\t1000\t/\tXtigervnc\tXtigervnc :1',
  '168\t10\t0\t/\tsudo\t/usr/bin/sudo -n python3 -m http.server',
  '169\t168\t0\t/\tpython3\tpython3 -m http.server',
].join('\n');

describe('users: programs run as the user they declare', () => {
  it('reads user= per program (root when absent)', () => {
    assert.deepEqual(
      [...declaredUsers(CONF)],
      [
        ['nginx', undefined],
        ['vnc', 'idekube'],
        ['rootweb', 'idekube'],
      ],
    );
  });
  it('reads processes from /proc without ps, and their subtrees', () => {
    const all = parseProcesses(PROCS);
    assert.deepEqual(
      subtree(all, 57).map((p) => p.pid),
      [57, 81],
    );
    assert.equal(describeProcess(all.find((p) => p.pid === 81)!), 'pid 81 (Xtigervnc :1)');
  });
  it('the /proc listing works here too (this process is in its list), by python3 and by the shell loop alike', async () => {
    const me = (text: string) => parseProcesses(text).find((p) => p.pid === process.pid);
    const byCommand = await localExec()([...PROC_COMMAND]);
    assert.equal(byCommand.code, 0, byCommand.stderr);
    const byPython = await localExec()(['python3', '-c', PROC_PYTHON]);
    assert.equal(byPython.code, 0, byPython.stderr);
    const byLoop = await localExec()(['sh', '-c', PROC_LOOP]);
    assert.equal(byLoop.code, 0, byLoop.stderr);
    const expected = me(byLoop.stdout);
    assert.deepEqual(
      { ...expected, args: '' },
      { pid: process.pid, ppid: process.ppid, uid: process.getuid!(), root: '/', comm: 'node', args: '' },
    );
    assert.match(expected?.args ?? '', /node/);
    for (const text of [byCommand.stdout, byPython.stdout]) assert.deepEqual(me(text), expected);
    // python3 ran (the command's own process is python3, not sh + its children)
    assert.ok(parseProcesses(byCommand.stdout).some((p) => p.comm === 'python3' && p.args.includes('import os, sys')));
  });
  it('falls back to the shell loop when python3 fails, with no partial list before it', async () => {
    // fails half-way through the list
    const halfWay = PROC_PYTHON.replace("    d = '/proc/' + pid", "    if len(out) > 2: raise OSError('boom')\n    d = '/proc/' + pid");
    assert.notEqual(halfWay, PROC_PYTHON);
    const failing = [...PROC_COMMAND.slice(0, 4), halfWay];
    const r = await localExec()(failing);
    assert.equal(r.code, 0, r.stderr);
    const pids = parseProcesses(r.stdout).map((p) => p.pid);
    assert.ok(pids.includes(process.pid));
    assert.equal(new Set(pids).size, pids.length, 'each process once');
  });
  const exec = (status: string) =>
    fakeExec({
      [`sh -c ${'cat /etc/supervisor/supervisord.conf /etc/supervisor/conf.d/*.conf 2>/dev/null'}`]: { stdout: CONF },
      'supervisorctl status': { stdout: status },
      [PROC_COMMAND.join(' ')]: { stdout: PROCS },
    });
  const uid = async (n: string) => (n === 'idekube' ? 1000 : undefined);
  it('fails when a program declared as the user runs as root (sudo)', async () => {
    await fails(
      checkOwners(exec('nginx RUNNING pid 107, uptime 1\nvnc RUNNING pid 57, uptime 1\nrootweb RUNNING pid 168, uptime 1\n'), uid),
      /rootweb should run as idekube \(uid 1000\) but pid 168 \(\/usr\/bin\/sudo -n python3 -m http.server\) runs as uid 0 \(root\)/,
    );
  });
  it('passes when each runs as declared (nginx workers may be www-data)', async () => {
    const ok = fakeExec({
      'sh -c cat /etc/supervisor/supervisord.conf /etc/supervisor/conf.d/*.conf 2>/dev/null': {
        stdout: CONF.replace(/\[program:rootweb\][\s\S]*$/, ''),
      },
      'supervisorctl status': { stdout: 'nginx RUNNING pid 107, uptime 1\nvnc RUNNING pid 57, uptime 1\n' },
      [PROC_COMMAND.join(' ')]: { stdout: PROCS },
    });
    assert.equal(await checkOwners(ok, uid), 'nginx as root, vnc as idekube (2 processes)');
  });
  it('fails when a program is not running', async () => {
    await fails(
      checkOwners(exec('nginx RUNNING pid 107, uptime 1\nvnc FATAL Exited too quickly\nrootweb RUNNING pid 168, uptime 1\n'), uid),
      /vnc is not running \(FATAL\)/,
    );
  });
});

describe('gpu: NVIDIA rendering when a GPU is usable, "skipped: no GPU" otherwise', () => {
  it('parses detect-gpu.sh output (shell quoting included)', () => {
    assert.deepEqual(parseDetection("IDEKUBE_GPU='none'\nIDEKUBE_GPU_REASON='no /dev/nvidiactl (it'\\''s absent)'\n"), {
      gpu: 'none',
      reason: "no /dev/nvidiactl (it's absent)",
    });
    assert.equal(parseDetection('garbage'), undefined);
  });
  it('parses glxinfo -B', () => {
    const out =
      'name of display: :1\ndisplay: :1  screen: 0\ndirect rendering: Yes\nOpenGL vendor string: NVIDIA Corporation\nOpenGL renderer string: NVIDIA H200/PCIe/SSE2\nOpenGL core profile version string: 4.6.0 NVIDIA 580.65.06\n';
    assert.deepEqual(parseGlxinfo(out), {
      renderer: 'NVIDIA H200/PCIe/SSE2',
      vendor: 'NVIDIA Corporation',
      version: '4.6.0 NVIDIA 580.65.06',
      direct: true,
    });
    assert.match(rendererVerdict(parseGlxinfo(out), 'vglrun -d egl glxinfo -B'), /NVIDIA rendering.*NVIDIA H200/);
    assert.throws(
      () => rendererVerdict(parseGlxinfo('OpenGL renderer string: llvmpipe (LLVM 15.0.6, 256 bits)\n'), 'x'),
      /renders with "llvmpipe \(LLVM 15\.0\.6, 256 bits\)" \(software rendering\), not NVIDIA/,
    );
    assert.match(
      rendererVerdict(parseGlxinfo('OpenGL vendor string: NVIDIA Corporation\nOpenGL renderer string: GeForce GTX 1080/PCIe/SSE2\n'), 'x'),
      /GeForce GTX 1080/,
    );
  });
  const base = {
    logs: async () => '[idekube-desktop] rendering: software (IDEKUBE_GPU=none: no /dev/nvidiactl)\n',
    user: 'idekube',
    display: ':1',
  };
  it('no GPU: skipped with "no GPU", the reason and the software-rendering line — never a pass', async () => {
    const exec = fakeExec({
      [DETECT_GPU]: {
        code: 1,
        stdout: "IDEKUBE_GPU='none'\nIDEKUBE_GPU_REASON='no /dev/nvidiactl (no NVIDIA runtime or no GPU assigned)'\n",
      },
    });
    await fails(
      checkGpu({ ...base, exec }),
      /^no GPU \(no \/dev\/nvidiactl \(no NVIDIA runtime or no GPU assigned\)\); the desktop renders in software: rendering: software/,
      CheckSkipped,
    );
  });
  it("the runtime's detection missing from the image fails", async () => {
    await fails(checkGpu({ ...base, exec: fakeExec({}) }), /detect-gpu\.sh is missing from the image/);
  });

  // The "GPU present" path for real: the runtime's detect-gpu.sh forced with IDEKUBE_GPU=nvidia, a stub vglrun.
  const stubDir = mkdtempSync(join(tmpdir(), 'idekube-gpu-stub-'));
  const stub = (name: string, body: string) => {
    writeFileSync(join(stubDir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(stubDir, name), 0o755);
  };
  stub(
    'vglrun',
    '[ "$1" = -d ] && [ "$2" = egl ] && [ "$3" = glxinfo ] || { echo "unexpected: $*" >&2; exit 2; }\nprintf "direct rendering: Yes\\nOpenGL vendor string: %s\\nOpenGL renderer string: %s\\n" "${STUB_VENDOR:-NVIDIA Corporation}" "${STUB_RENDERER:-NVIDIA H200/PCIe/SSE2}"',
  );
  const runtimeExec = (env: Record<string, string>): Exec => {
    const local = localExec({ PATH: `${stubDir}:${process.env.PATH}`, ...env });
    // the image's path of detect-gpu.sh → this checkout's copy
    return (argv, opts) => local(argv[0] === DETECT_GPU ? ['bash', join(REPO_ROOT, 'artifacts/runtime/lib/detect-gpu.sh')] : argv, opts);
  };
  it('GPU present (IDEKUBE_GPU=nvidia): vglrun -d egl glxinfo must report an NVIDIA renderer', async () => {
    assert.match(
      await checkGpu({ ...base, exec: runtimeExec({ IDEKUBE_GPU: 'nvidia' }) }),
      /NVIDIA rendering through VirtualGL\/EGL: `vglrun -d egl glxinfo -B` → NVIDIA H200\/PCIe\/SSE2/,
    );
  });
  it('GPU present but rendering in software: fails', async () => {
    await fails(
      checkGpu({
        ...base,
        exec: runtimeExec({ IDEKUBE_GPU: 'nvidia', STUB_VENDOR: 'Mesa', STUB_RENDERER: 'llvmpipe (LLVM 15.0.6, 256 bits)' }),
      }),
      /detect-gpu\.sh found an NVIDIA GPU but .*llvmpipe.*software rendering.*not NVIDIA/,
    );
  });
  it('GPU present but no vglrun in the image: fails', async () => {
    const exec = fakeExec({
      [DETECT_GPU]: {
        stdout: "IDEKUBE_GPU='nvidia'\nIDEKUBE_GPU_REASON='device nodes /dev/nvidiactl /dev/nvidia0; libEGL_nvidia.so.0 in linker cache'\n",
      },
      'sh -c *': { stdout: '' },
    });
    await fails(checkGpu({ ...base, exec }), /found an NVIDIA GPU .* but vglrun is not installed/);
  });
  it('IDEKUBE_GPU=none forced: skipped, with the reason', async () => {
    await fails(checkGpu({ ...base, exec: runtimeExec({ IDEKUBE_GPU: 'none' }) }), /^no GPU \(forced by IDEKUBE_GPU=none\)/, CheckSkipped);
  });
});

describe('dind: the Docker daemon inside answers', () => {
  it('passes on docker info', async () => {
    assert.match(
      await checkDind(fakeExec({ 'docker info --format {{.ServerVersion}} {{.Driver}}': { stdout: '26.1.5 overlay2\n' } }), 2000),
      /dockerd 26\.1\.5 answers inside the container \(storage overlay2\)/,
    );
  });
  it("fails with docker's own words", async () => {
    await fails(
      checkDind(
        fakeExec({
          'docker info --format {{.ServerVersion}} {{.Driver}}': {
            code: 1,
            stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
          },
        }),
        1500,
      ),
      /did not succeed within 2 s: Cannot connect to the Docker daemon.*needs a privileged container/,
    );
  });
});

const H = (files: Record<string, string>) =>
  Object.entries(files)
    .map(([f, c]) => `${c.repeat(64).slice(0, 64)}  ./${f}`)
    .join('\n');

describe("home: populated from /etc/skel, survives a restart, keeps the user's changes", () => {
  it('parses sha256sum output', () => {
    assert.deepEqual(
      [...parseHashes(H({ '.bashrc': 'a', '.config/x': 'b' }))],
      [
        ['.bashrc', 'a'.repeat(64)],
        ['.config/x', 'b'.repeat(64)],
      ],
    );
  });
  const execFor = (skel: Record<string, string>, home: Record<string, string>, owners = '') =>
    fakeExec({
      'sh -c *': (argv) => {
        const dir = argv[4];
        if (argv[2]!.startsWith('find')) return { stdout: owners };
        return { stdout: H(dir === '/etc/skel' ? skel : home) };
      },
    });
  it('passes when every skeleton file is in the home, owned by the user', async () => {
    assert.match(
      await checkHomeInit(
        execFor({ '.bashrc': 'a', '.profile': 'b' }, { '.bashrc': 'a', '.profile': 'b', '.ssh/id_ed25519': 'c' }),
        facts(),
      ),
      /populated from \/etc\/skel \(2 file\(s\)\), owned by idekube/,
    );
  });
  it('fails when the empty home was not populated', async () => {
    await fails(
      checkHomeInit(execFor({ '.bashrc': 'a', '.profile': 'b' }, { '.ssh/id_ed25519': 'c' }), facts()),
      /not populated from \/etc\/skel \(IDEKUBE_INIT_HOME=1\): 2 of 2 file\(s\) missing in \/home\/idekube, e\.g\. \.bashrc, \.profile/,
    );
  });
  it('fails when the image has no /etc/skel', async () => {
    await fails(checkHomeInit(execFor({}, {}), facts({ skelExists: false, skel: [] })), /the image has no \/etc\/skel/);
  });
  it("fails when the populated files are not the user's", async () => {
    await fails(
      checkHomeInit(execFor({ '.bashrc': 'a' }, { '.bashrc': 'a' }, '/home/idekube/.bashrc\n'), facts()),
      /not owned by idekube: \/home\/idekube\/\.bashrc/,
    );
  });
  const changes = { changed: '.bashrc', line: '# changed by the user', marker: 'idekube-test-marker', markerText: 'before' };
  it('the file to change is .bashrc when there', () => {
    assert.equal(fileToChange(['.profile', '.bashrc']), '.bashrc');
    assert.equal(fileToChange(['.config/a', '.zshrc']), '.zshrc');
  });
  it('volume: passes when the marker survived, fails when it is gone', async () => {
    assert.match(
      await checkHomeVolume(fakeExec({ 'cat /home/idekube/idekube-test-marker': { stdout: 'before\n' } }), facts(), changes),
      /survived the restart/,
    );
    await fails(
      checkHomeVolume(fakeExec({ 'cat /home/idekube/idekube-test-marker': { code: 1 } }), facts(), changes),
      /written before the restart, is gone after it/,
    );
  });
  it("keeps changes: fails when the skeleton overwrote the user's file", async () => {
    assert.match(
      await checkHomeKeeps(fakeExec({ 'cat /home/idekube/.bashrc': { stdout: 'x\n# changed by the user\n' } }), facts(), changes),
      /keeps the user's change/,
    );
    await fails(
      checkHomeKeeps(fakeExec({ 'cat /home/idekube/.bashrc': { stdout: 'x\n' } }), facts(), changes),
      /was overwritten from \/etc\/skel at the restart/,
    );
  });
});

describe('shell: IDEKUBE_PREFERED_SHELL changes the login shell', () => {
  it('picks another installed shell, zsh first', () => {
    assert.equal(pickShell(facts()), '/bin/zsh');
    assert.equal(pickShell(facts({ user: { ...facts().user!, shell: '/bin/zsh' } })), '/bin/bash');
    assert.equal(pickShell(facts({ shells: ['/bin/bash'] })), undefined);
  });
  it('passes / fails on the passwd entry', async () => {
    assert.match(
      await checkShell(
        fakeExec({ 'getent passwd idekube': { stdout: 'idekube:x:1000:1000::/home/idekube:/bin/zsh\n' } }),
        facts(),
        '/bin/zsh',
      ),
      /login shell of idekube is \/bin\/zsh \(was \/bin\/bash\)/,
    );
    await fails(
      checkShell(fakeExec({ 'getent passwd idekube': { stdout: 'idekube:x:1000:1000::/home/idekube:/bin/bash\n' } }), facts(), '/bin/zsh'),
      /login shell of idekube is \/bin\/bash, expected \/bin\/zsh \(IDEKUBE_PREFERED_SHELL\)/,
    );
  });
  it('skips, saying why, without another shell', async () => {
    await fails(
      checkShell(fakeExec({}), facts({ shells: ['/bin/bash'] }), undefined),
      /lists no login shell other than \/bin\/bash/,
      CheckSkipped,
    );
  });
});

describe('hooks: a mounted hook runs as root before the services', () => {
  it('the hook itself writes what the check reads (run here with sh)', async () => {
    const r = await localExec()(['sh', '-c', HOOK_TEXT]);
    assert.equal(r.code, 0, r.stderr);
    assert.match((await localExec()(['cat', '/tmp/idekube-test-hook'])).stdout, /^uid=\d+ supervisord-running=(yes|no)$/m);
  });
  it('passes / fails', async () => {
    assert.match(
      await checkHooks(fakeExec({ 'cat /tmp/idekube-test-hook': { stdout: 'uid=0 supervisord-running=no\n' } })),
      /ran as root before the services/,
    );
    await fails(checkHooks(fakeExec({ 'cat /tmp/idekube-test-hook': { code: 1 } })), /did not run/);
    await fails(checkHooks(fakeExec({ 'cat /tmp/idekube-test-hook': { stdout: 'uid=12345 supervisord-running=no\n' } })), /not as root/);
    await fails(
      checkHooks(fakeExec({ 'cat /tmp/idekube-test-hook': { stdout: 'uid=0 supervisord-running=yes\n' } })),
      /after the services had started/,
    );
  });
});

describe("persistent root: the init container's copy and the chrooted services", () => {
  it('a complete copy passes; a partial one fails naming what is missing', () => {
    assert.match(copyVerdict(parseCopy('usr=100 copy_usr=100\npasswd=same\nstartup=yes\nvolatile=0\n')), /\/usr copied \(100 entries\)/);
    assert.throws(
      () => copyVerdict(parseCopy('usr=100 copy_usr=40\npasswd=differs\nstartup=no\nmissing=proc\nmissing=dev\nvolatile=3\n')),
      /\/usr has 100 entries, the copy 40; \/etc\/passwd differs.*no \/startup\.sh.*mount points missing in the copy: proc,dev; 3 entries of \/proc or \/sys were copied/,
    );
  });
  const procs = parseProcesses(
    [
      '1\t0\t0\t/\tbash\tbash /startup.sh',
      '113\t1\t0\t/rootfs\ttini\ttini -s',
      '161\t113\t0\t/rootfs\tsupervisord\tsupervisord',
      '164\t161\t0\t/rootfs\tnginx\tnginx',
      '170\t161\t1000\t\tbash\tvnc-server.sh',
    ].join('\n'),
  );
  it('passes when supervisord and its programs run in /rootfs (an unreadable root is inherited)', () => {
    assert.match(
      chrootVerdict(
        [
          { name: 'nginx', proc: procs[3] },
          { name: 'vnc', proc: procs[4] },
        ],
        procs,
      ),
      /supervisord and its programs run chrooted in \/rootfs: nginx, vnc/,
    );
  });
  it("fails when the services run from the image's own root", () => {
    const outside = parseProcesses(['10\t1\t0\t/\tsupervisord\tsupervisord', '11\t10\t0\t/\tnginx\tnginx'].join('\n'));
    assert.throws(() => chrootVerdict([{ name: 'nginx', proc: outside[1] }], outside), /supervisord runs from \/, not from \/rootfs/);
  });
});

describe('the probe reads what an image says about itself', () => {
  it('parses its sections', () => {
    const out = [
      '--- flavor.json',
      '{"flavor":"web/base","lineage":["web/base"],"services":[{"name":"ssh","check":"ssh","routes":[{"path":"/ssh","port":2222,"exact":true,"websocket":true}],"programs":["sshd"]}]}',
      '--- shells',
      '/bin/sh',
      '/bin/zsh',
      '--- passwd',
      'idekube:x:1000:1000::/home/idekube:/bin/bash',
      '--- skel',
      '(exists)',
      './.bashrc',
      './.config/idekube/settings.toml',
      '--- files',
      '/startup.sh',
      '--- end',
      '',
    ].join('\n');
    const p = parseProbe(out);
    assert.equal(p.metadata?.flavor, 'web/base');
    assert.deepEqual(p.shells, ['/bin/sh', '/bin/zsh']);
    assert.deepEqual(p.user, { name: 'idekube', uid: 1000, gid: 1000, home: '/home/idekube', shell: '/bin/bash' });
    assert.deepEqual(p.skel, ['.bashrc', '.config/idekube/settings.toml']);
    assert.equal(p.skelExists, true);
    assert.equal(p.hasRuntime, true);
    assert.equal(p.hasDetectGpu, false);
  });
  it('the probe script runs with plain sh and ends its output', async () => {
    const r = await localExec()(['sh', '-c', PROBE_SCRIPT, 'probe', 'root']);
    assert.equal(r.code, 0, r.stderr);
    const p = parseProbe(r.stdout);
    assert.equal(p.user?.uid, 0);
    assert.match(r.stdout, /--- end/);
  });
});
