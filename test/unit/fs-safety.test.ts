/**
 * Host safety: the project folder is the boundary. Nothing outside it is read into a build context (links are
 * refused, never followed), nothing is written, chmod-ed or deleted through a link, and `-o` never deletes a file
 * idekube did not write. Each refusal is exit 2 naming the path, without a stack trace, and leaves the "host" (a
 * temp folder outside the project that the links point at) exactly as it was. Runs the real CLI; no engine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BASE_FILES, cleanup, makeProject, runCli, writeFile, type CliResult } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

/** BASE_FILES plus a layer that copies a rootfs/ (like the production catalog's) into the image. */
const FILES = {
  ...BASE_FILES,
  'flavors/layers/base.yaml': 'description: base packages\nrun: install.sh\ncopy:\n  - {src: rootfs/, dest: /}\n',
  'artifacts/layers/base/rootfs/etc/motd': 'hello\n',
};

function project(): string {
  const dir = makeProject(FILES);
  dirs.push(dir);
  return dir;
}

/** A folder outside the project standing for the host: a secret file, a folder with a file, a victim to overwrite. */
function host(): string {
  const dir = mkdtempSync(join(tmpdir(), 'idekube-host-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'secret'), 'host secret\n');
  chmodSync(join(dir, 'secret'), 0o600);
  mkdirSync(join(dir, 'dir'));
  writeFileSync(join(dir, 'dir', 'inner'), 'host inner\n');
  writeFileSync(join(dir, 'dir', 'install.sh'), 'host install.sh\n');
  return dir;
}

/** Every entry under `dir`: type, mode, size, mtime, content or link target (links not followed). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const r = `${rel}${name}`;
      const st = lstatSync(p);
      const head = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`;
      if (st.isSymbolicLink()) out[r] = `${head} -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `${head} dir`;
        walk(p, `${r}/`);
      } else if (st.isFile()) out[r] = `${head} ${readFileSync(p, 'utf8')}`;
      else out[r] = `${head} special`;
    }
  };
  walk(dir, '');
  return out;
}

/** The project's sources (what a build reads), to check that a refused command changed none of them. */
function sources(dir: string): Record<string, string> {
  const s = snapshot(dir);
  for (const k of Object.keys(s)) if (k.startsWith('.idekube')) delete s[k];
  return s;
}

function assertRefused(r: CliResult, path: string, what: string): void {
  assert.equal(r.code, 2, `${what}: exit code\n${r.stderr}`);
  assert.ok(r.stderr.includes(path), `${what}: stderr names ${path}\n${r.stderr}`);
  assert.ok(/fix: /.test(r.stderr), `${what}: says what to do\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
  assert.doesNotMatch(r.stderr, /internal error/, what);
}

function cli(dir: string, ...args: string[]): CliResult {
  return runCli(['-C', dir, '--git-tag', 'v1.0.0', ...args], { cwd: dir, timeoutMs: 20_000 });
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, 'mkfifo');
}

describe('host safety: the project folder is the boundary', () => {
  it('refuses links and special files in what is copied into a build context (never follows them)', () => {
    const cases: Array<{ name: string; path: string; make: (p: string, h: string) => void; args?: string[] }> = [
      {
        name: 'a file link in a layer folder',
        path: 'artifacts/layers/base/leak',
        make: (p, h) => symlinkSync(join(h, 'secret'), join(p, 'artifacts/layers/base/leak')),
      },
      {
        name: 'a link to /etc/shadow in rootfs/',
        path: 'artifacts/layers/base/rootfs/etc/shadow',
        make: (p) => symlinkSync('/etc/shadow', join(p, 'artifacts/layers/base/rootfs/etc/shadow')),
      },
      {
        name: 'a folder link in rootfs/',
        path: 'artifacts/layers/base/rootfs/root',
        make: (p, h) => symlinkSync(join(h, 'dir'), join(p, 'artifacts/layers/base/rootfs/root')),
      },
      {
        name: 'a relative link out of the project',
        path: 'artifacts/layers/tool/up',
        make: (p) => symlinkSync('../../../..', join(p, 'artifacts/layers/tool/up')),
      },
      {
        name: 'the layer folder itself a link',
        path: 'artifacts/layers/tool',
        make: (p, h) => {
          rmSync(join(p, 'artifacts/layers/tool'), { recursive: true });
          symlinkSync(join(h, 'dir'), join(p, 'artifacts/layers/tool'));
        },
      },
      {
        name: 'a FIFO in rootfs/',
        path: 'artifacts/layers/base/rootfs/etc/pipe',
        make: (p) => mkfifo(join(p, 'artifacts/layers/base/rootfs/etc/pipe')),
      },
      {
        name: "the project's script library a link",
        path: 'artifacts/lib',
        make: (p, h) => symlinkSync(join(h, 'dir'), join(p, 'artifacts/lib')),
      },
      {
        name: "a link in the project's runtime init",
        path: 'artifacts/runtime/startup.sh',
        make: (p, h) => {
          writeFile(p, 'artifacts/runtime/init-container.sh', '#!/bin/sh\n');
          symlinkSync(join(h, 'secret'), join(p, 'artifacts/runtime/startup.sh'));
        },
      },
      {
        name: 'a link, with build --dry-run',
        path: 'artifacts/layers/base/leak',
        make: (p, h) => symlinkSync(join(h, 'secret'), join(p, 'artifacts/layers/base/leak')),
        args: ['build', 'alpha/base', '--dry-run', '--driver', 'docker', '--platform', 'linux/amd64'],
      },
    ];
    for (const c of cases) {
      const p = project();
      const h = host();
      c.make(p, h);
      const before = snapshot(h);
      const r = cli(p, ...(c.args ?? ['generate', 'alpha/base']));
      assertRefused(r, c.path, c.name);
      assert.match(r.stderr, /replace the link|remove it/, c.name);
      assert.ok(!existsSync(join(p, '.idekube/build')), `${c.name}: no context was written`);
      assert.deepEqual(snapshot(h), before, `${c.name}: host unchanged`);
    }
  });

  it('never writes, chmods or deletes through a link in the output tree', () => {
    const out = '.idekube/build/default';
    const cases: Array<{ name: string; path: string; make: (p: string, h: string) => void; args?: string[] }> = [
      {
        name: 'the Dockerfile a link to a host file',
        path: `${out}/alpha/base/Dockerfile`,
        make: (p, h) => linkIn(p, `${out}/alpha/base/Dockerfile`, join(h, 'secret')),
      },
      {
        name: 'a context folder a link',
        path: `${out}/alpha/base/layers/base`,
        make: (p, h) => linkIn(p, `${out}/alpha/base/layers/base`, join(h, 'dir')),
      },
      { name: 'the flavor folder a link', path: `${out}/alpha/base`, make: (p, h) => linkIn(p, `${out}/alpha/base`, join(h, 'dir')) },
      { name: 'the output folder itself a link', path: out, make: (p, h) => linkIn(p, out, join(h, 'dir')) },
      { name: '.idekube a link', path: '.idekube', make: (p, h) => linkIn(p, '.idekube', h) },
      {
        name: 'a dangling link among stale files',
        path: `${out}/alpha/base/old`,
        make: (p, h) => linkIn(p, `${out}/alpha/base/old`, join(h, 'gone')),
      },
      {
        name: "a link in another flavor's folder",
        path: `${out}/beta/base/Dockerfile`,
        make: (p, h) => linkIn(p, `${out}/beta/base/Dockerfile`, join(h, 'secret')),
      },
      {
        name: '-o naming a link',
        path: 'outlink',
        make: (p, h) => symlinkSync(join(h, 'dir'), join(p, 'outlink')),
        args: ['generate', 'alpha/base', '-o', 'outlink'],
      },
    ];
    for (const c of cases) {
      const p = project();
      const h = host();
      // a first run leaves a normal output (and its record) behind, as in real use
      const first = cli(p, 'generate', 'alpha/base', 'beta/base');
      assert.equal(first.code, 0, first.stderr);
      c.make(p, h);
      const before = snapshot(h);
      assertRefused(cli(p, ...(c.args ?? ['generate', 'alpha/base'])), c.path, c.name);
      assert.deepEqual(snapshot(h), before, `${c.name}: host unchanged`);
    }
  });

  it('a link in .idekube/cache/ is never written through (the catalog cache is skipped)', () => {
    const p = project();
    const h = host();
    mkdirSync(join(p, '.idekube'));
    symlinkSync(join(h, 'dir'), join(p, '.idekube/cache'));
    const before = snapshot(h);
    const r = cli(p, 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(h), before);
  });

  it("-o refuses the project's sources, files and foreign folders, and prunes only what it wrote", () => {
    const refused: Array<{ o: string; path: string; make?: (p: string) => void }> = [
      { o: 'flavors', path: '-o flavors' },
      { o: 'flavors/alpha/base', path: '-o flavors/alpha/base' },
      { o: 'artifacts/layers/base/out', path: '-o artifacts/layers/base/out' },
      { o: 'artifacts', path: '-o artifacts' },
      { o: '.', path: '-o .' },
      { o: '.dockerargs', path: '-o .dockerargs' },
      { o: 'notes.txt', path: 'notes.txt', make: (p) => writeFile(p, 'notes.txt', 'mine\n') },
      { o: 'mine', path: 'mine', make: (p) => writeFile(p, 'mine/alpha/base/Dockerfile', 'my own Dockerfile\n') },
      { o: 'mine', path: 'mine', make: (p) => writeFile(p, 'mine/keep.txt', 'mine\n') },
    ];
    for (const c of refused) {
      const p = project();
      c.make?.(p);
      const before = sources(p);
      const r = cli(p, 'generate', 'alpha/base', '-o', c.o);
      assertRefused(r, c.path, `-o ${c.o}`);
      assert.deepEqual(sources(p), before, `-o ${c.o}: nothing changed`);
    }
    // the same, outside the project: a foreign folder stays as it was
    const h = host();
    const before = snapshot(h);
    assertRefused(
      cli(project(), 'generate', 'alpha/base', '-o', join(h, 'dir')),
      join(h, 'dir'),
      '-o a foreign folder outside the project',
    );
    assert.deepEqual(snapshot(h), before, 'foreign folder unchanged');
  });

  it('a second generate into the same -o removes only its own stale files', () => {
    const p = project();
    const out = mkdtempSync(join(tmpdir(), 'idekube-out-'));
    dirs.push(out);
    writeFile(p, 'artifacts/layers/base/rootfs/etc/old.conf', 'old\n');
    const first = cli(p, '--json', 'generate', 'alpha/base', 'beta/base', '-o', out);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(join(out, 'alpha/base/layers/base/rootfs/etc/old.conf')));
    // the user adds files of their own; a layer file goes away
    writeFileSync(join(out, 'alpha/base/layers/base/rootfs/etc/user.conf'), 'user\n');
    writeFileSync(join(out, 'README.user'), 'user\n');
    unlinkSync(join(p, 'artifacts/layers/base/rootfs/etc/old.conf'));
    const second = cli(p, '--json', 'generate', 'alpha/base', '-o', out);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as Array<{ removed: number }>)[0]!.removed, 1);
    assert.ok(!existsSync(join(out, 'alpha/base/layers/base/rootfs/etc/old.conf')), 'stale file removed');
    assert.equal(readFileSync(join(out, 'alpha/base/layers/base/rootfs/etc/user.conf'), 'utf8'), 'user\n', 'user file kept');
    assert.equal(readFileSync(join(out, 'README.user'), 'utf8'), 'user\n', 'user file kept');
    // beta/base was not regenerated: its stale file stays until it is
    assert.ok(existsSync(join(out, 'beta/base/layers/base/rootfs/etc/old.conf')));
    const third = cli(p, 'generate', 'beta/base', '-o', out);
    assert.equal(third.code, 0, third.stderr);
    assert.ok(!existsSync(join(out, 'beta/base/layers/base/rootfs/etc/old.conf')));
    // a record pointing outside the folder is not idekube's: refused, nothing deleted
    const h = host();
    const before = snapshot(h);
    writeFileSync(
      join(out, '.idekube-generated.json'),
      JSON.stringify({ version: 1, files: [`alpha/base/../../../../../..${join(h, 'secret')}`] }),
    );
    assertRefused(cli(p, 'generate', 'alpha/base', '-o', out), '.idekube-generated.json', 'a hostile record');
    assert.deepEqual(snapshot(h), before, 'host unchanged');
  });

  it('dangling, looping and root links under flavors/ or artifacts/ are exit 2, not a crash', () => {
    const cases: Array<{ name: string; path: string; make: (p: string, h: string) => void }> = [
      {
        name: 'a dangling link in a layer folder',
        path: 'artifacts/layers/base/gone',
        make: (p) => symlinkSync('/nonexistent/idekube', join(p, 'artifacts/layers/base/gone')),
      },
      {
        name: 'a link loop in a layer folder',
        path: 'artifacts/layers/base/loop',
        make: (p) => {
          symlinkSync('loop2', join(p, 'artifacts/layers/base/loop1'));
          symlinkSync('loop1', join(p, 'artifacts/layers/base/loop2'));
        },
      },
      { name: 'a link to / under flavors/', path: 'flavors/root', make: (p) => symlinkSync('/', join(p, 'flavors/root')) },
      {
        name: 'a link to / in a layer folder',
        path: 'artifacts/layers/tool/host',
        make: (p) => symlinkSync('/', join(p, 'artifacts/layers/tool/host')),
      },
      {
        name: 'a dangling flavor folder',
        path: 'flavors/gamma',
        make: (p) => symlinkSync('/nonexistent/idekube', join(p, 'flavors/gamma')),
      },
      {
        name: 'a manifest linked to a host file',
        path: 'flavors/layers/evil.yaml',
        make: (p, h) => symlinkSync(join(h, 'secret'), join(p, 'flavors/layers/evil.yaml')),
      },
      {
        name: 'a flavor .dockerargs linked to a host file',
        path: 'flavors/beta/base/.dockerargs',
        make: (p, h) => symlinkSync(join(h, 'secret'), join(p, 'flavors/beta/base/.dockerargs')),
      },
      {
        name: 'artifacts/ a link',
        path: 'artifacts',
        make: (p, h) => {
          rmSync(join(p, 'artifacts'), { recursive: true });
          symlinkSync(join(h, 'dir'), join(p, 'artifacts'));
        },
      },
    ];
    for (const [i, c] of cases.entries()) {
      // list and generate each time; plan (the same catalog walk) for some, to keep the test quick
      for (const args of [['list'], ['generate', 'alpha/base'], ...(i % 3 === 0 ? [['plan', 'alpha/base']] : [])]) {
        const p = project();
        const h = host();
        c.make(p, h);
        const before = snapshot(h);
        const r = cli(p, ...args);
        const what = `${c.name} (${args[0]})`;
        assertRefused(r, c.path, what);
        assert.doesNotMatch(r.stderr, /host secret/, `${what}: the host file was not read`);
        assert.deepEqual(snapshot(h), before, `${what}: host unchanged`);
      }
    }
  });
});

/** A link at `rel` in project `p` (its folder created; whatever was there replaced). */
function linkIn(p: string, rel: string, target: string): void {
  const abs = join(p, rel);
  rmSync(abs, { recursive: true, force: true });
  mkdirSync(join(abs, '..'), { recursive: true });
  symlinkSync(target, abs);
}
