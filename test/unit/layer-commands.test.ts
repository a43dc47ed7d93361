/**
 * A layer's `commands:` — declared in YAML, resolved with the layer's build args, listed in flavor.json, planned as
 * `command <name>` checks where the image has a web terminal, and run there: typed into a terminal whose shell is
 * a real bash here, so the quoting of what is typed is tested for real.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandsOf } from '../../src/config/commands.js';
import { loadProject } from '../../src/config/project.js';
import { generateFlavor } from '../../src/generate/flavor.js';
import { checkCommand } from '../../src/verify/checks/terminal.js';
import { planChecks } from '../../src/verify/registry.js';
import { commandsFromMetadata } from '../../src/verify/subject.js';
import { CheckFailed, type ImageFacts, type Subject, type VerifyService } from '../../src/verify/types.js';
import { fakeServer, text, ttydRoute, type FakeServer } from '../helpers/fake-servers.js';
import { cleanup, makeProject, runCli } from '../helpers/project.js';

const servers: FakeServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) cleanup(d);
});

const terminal: VerifyService = {
  name: 'terminal',
  check: 'terminal',
  routes: [{ path: '/terminal/', port: 7681, keepPrefix: true, websocket: true }],
  programs: ['terminal'],
};

async function bashTerminal(): Promise<number> {
  const s = await fakeServer(
    { '/terminal/': text(200, '<title>ttyd - Terminal</title>') },
    { '/terminal/ws': ttydRoute({ writable: true, bash: true }) },
  );
  servers.push(s);
  return s.port;
}

async function fails(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof CheckFailed, `a CheckFailed, got ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('command checks in the web terminal', () => {
  it('passes: exit 0 and the expected text in the output (quotes and $ in the command survive)', async () => {
    const port = await bashTerminal();
    const msg = await checkCommand(
      port,
      terminal,
      { name: 'claude', layer: 'agent', run: `printf '%s (Claude Code)\\n' "2.0.77"`, expect: '2.0.77 (Claude Code)' },
      8000,
    );
    assert.match(msg, /typed `printf '%s \(Claude Code\)\\n' "2\.0\.77"` → exit 0, "2\.0\.77 \(Claude Code\)"/);
  });
  it('fails with the exit status and the last output lines', async () => {
    const port = await bashTerminal();
    await fails(
      checkCommand(port, terminal, { name: 'x', layer: 'l', run: `sh -c 'echo one; echo two >&2; exit 3'` }, 8000),
      /`sh -c 'echo one; echo two >&2; exit 3'` in the terminal exited 3: "one \| two"/,
    );
  });
  it('a command that is not installed: exit 127, said so', async () => {
    const port = await bashTerminal();
    await fails(
      checkCommand(port, terminal, { name: 'y', layer: 'l', run: 'idekube-no-such-command --version' }, 8000),
      /exited 127 \(command not found\): ".*idekube-no-such-command: command not found"/,
    );
  });
  it('fails when the output lacks what is expected (a different version)', async () => {
    const port = await bashTerminal();
    await fails(
      checkCommand(port, terminal, { name: 'node', layer: 'l', run: 'echo v18.19.0', expect: 'v22.' }, 8000),
      /printed "v18\.19\.0", which does not contain "v22\."/,
    );
  });
  it('output with newlines and non-ASCII comes back whole (base64 in one token)', async () => {
    const port = await bashTerminal();
    assert.match(
      await checkCommand(port, terminal, { name: 'z', layer: 'l', run: `printf 'a\\nb — ü\\n'`, expect: 'b — ü' }, 8000),
      /"a \| b — ü"/,
    );
  });
});

describe('commands from the manifests to the checks', () => {
  const project = () => {
    const dir = makeProject({
      '.dockerargs': 'BASE_IMAGE=debian:bookworm\nTOOL_VERSION=1.2.3\n',
      'flavors/layers/term.yaml':
        'run: install.sh\nservices:\n  terminal:\n    check: terminal\n    routes:\n      - {path: /terminal/, port: 7681, websocket: true, keepPrefix: true}\n    programs:\n      terminal: {command: /usr/local/bin/ttyd}\n',
      'artifacts/layers/term/install.sh': '#!/usr/bin/env bash\n',
      'flavors/layers/tool.yaml':
        'run: install.sh\nargs:\n  TOOL_VERSION: null\ncommands:\n  tool: {run: tool --version, expect: "tool ${TOOL_VERSION}"}\n',
      'artifacts/layers/tool/install.sh': '#!/usr/bin/env bash\n',
      'flavors/layers/tool2.yaml': 'run: install.sh\ncommands:\n  tool: {run: tool2 --version}\n  other: {run: other}\n',
      'artifacts/layers/tool2/install.sh': '#!/usr/bin/env bash\n',
      'flavors/a/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [term, tool]\n',
      'flavors/a/child/flavor.yaml': 'from:\n  parent: a/base\nlayers: [tool2]\n',
    });
    dirs.push(dir);
    return dir;
  };

  it("resolved with the layer's args; a child's command of the same name replaces the parent's", async () => {
    const p = await loadProject({ dir: project(), sets: [], flags: {}, env: {} });
    assert.deepEqual(commandsOf(p, 'a/base'), [{ name: 'tool', layer: 'tool', run: 'tool --version', expect: 'tool 1.2.3' }]);
    assert.deepEqual(
      commandsOf(p, 'a/child').map((c) => `${c.name}:${c.run}`),
      ['tool:tool2 --version', 'other:other'],
    );
  });

  it('flavor.json lists them; the image metadata gives them back', async () => {
    const p = await loadProject({ dir: project(), sets: [], flags: {}, env: {} });
    const g = generateFlavor(p, 'a/base');
    const meta = JSON.parse(g.files.find((f) => f.path === 'flavor/etc/idekube/flavor.json')!.text!) as ImageFacts['metadata'];
    assert.deepEqual(meta!.commands, [{ name: 'tool', layer: 'tool', run: 'tool --version', expect: 'tool 1.2.3' }]);
    assert.deepEqual(commandsFromMetadata(meta), { commands: meta!.commands });
    // junk in an image's metadata is dropped, not run
    assert.deepEqual(commandsFromMetadata({ commands: [{ name: 'x', run: '' } as never, { run: 'y' } as never] }), {});
  });

  it('planned as `command <name>` with a terminal; skipped, saying why, without one', () => {
    const facts = { env: {}, hasRuntime: false } as unknown as ImageFacts;
    const subject: Subject = {
      flavor: 'a/base',
      image: 'x',
      platform: 'linux/amd64',
      services: [terminal],
      commands: [{ name: 'tool', layer: 'tool', run: 'tool --version' }],
      source: 'catalog',
    };
    const planned = planChecks(subject, facts, { screenshot: false }).filter((c) => c.name.startsWith('command'));
    assert.deepEqual(
      planned.map((c) => [c.name, c.group, c.service]),
      [['command tool', 'main', 'terminal']],
    );
    const none = planChecks({ ...subject, services: [] }, facts, { screenshot: false }).find((c) => c.name === 'command tool')!;
    assert.equal(none.group, 'skip');
    assert.match(none.reason!, /no web terminal/);
  });

  it('bad input: an arg the layer does not declare, a command over two lines — exit 2 with file and line', () => {
    const dir = makeProject({
      '.dockerargs': 'BASE_IMAGE=debian:bookworm\n',
      'flavors/layers/tool.yaml': 'run: install.sh\ncommands:\n  tool: {run: tool --version, expect: "${NOT_DECLARED}"}\n',
      'artifacts/layers/tool/install.sh': '#!/usr/bin/env bash\n',
      'flavors/a/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [tool]\n',
    });
    dirs.push(dir);
    const r = runCli(['-C', dir, 'generate', 'a/base', '-o', join(dir, 'out')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /flavors\/layers\/tool\.yaml:3:.*commands\.tool\.expect uses \$\{NOT_DECLARED\}, which this layer does not declare/,
    );
    const dir2 = makeProject({
      '.dockerargs': 'BASE_IMAGE=debian:bookworm\n',
      'flavors/layers/tool.yaml': 'run: install.sh\ncommands:\n  tool: {run: "tool\\n--version"}\n',
      'artifacts/layers/tool/install.sh': '#!/usr/bin/env bash\n',
      'flavors/a/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [tool]\n',
    });
    dirs.push(dir2);
    const r2 = runCli(['-C', dir2, 'generate', 'a/base', '-o', join(dir2, 'out')]);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /flavors\/layers\/tool\.yaml:3/);
    assert.ok(!existsSync(join(dir2, 'out')), 'nothing generated');
  });
});
