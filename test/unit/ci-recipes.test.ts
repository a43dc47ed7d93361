/**
 * The shipped CI recipes are valid (no CI service is reachable from here, so they are checked offline), and they
 * publish both lineups of a scheme in one run; every lineup they and the README name exists in its scheme.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { selectLineups } from '../../src/config/lineups.js';
import type { Scheme } from '../../src/config/schemes.js';
import { REPO_ROOT, runCli } from '../helpers/project.js';

/** The lineups `names` selects in `scheme` (throws on a name the scheme does not have). */
const lineupsIn = (scheme: Scheme, names: string) => selectLineups(scheme, { flag: names, env: {}, base: [] }).lineups.map((l) => l.name);

/**
 * A GitHub Actions expression, as far as the recipes use it: string literals, `inputs.x` (null when absent, as on a
 * release event), `!`, `==` (strings, case-insensitive; null equals ''), `&&`, `||` (they return an operand), and
 * parentheses.
 */
function evaluate(expr: string, inputs: Record<string, string>): unknown {
  const tokens = expr.match(/'(?:[^']|'')*'|&&|\|\||==|!=|[!()]|[A-Za-z_][\w.-]*/g) ?? [];
  let i = 0;
  const truthy = (v: unknown) => v !== null && v !== undefined && v !== false && v !== '' && v !== 0;
  const primary = (): unknown => {
    const t = tokens[i++];
    if (t === '(') {
      const v = or();
      assert.equal(tokens[i++], ')');
      return v;
    }
    if (t === '!') return !truthy(primary());
    if (t?.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t?.startsWith('inputs.')) return inputs[t.slice('inputs.'.length)] ?? null;
    throw new Error(`unexpected ${t} in ${expr}`);
  };
  const eq = (): unknown => {
    let v = primary();
    while (tokens[i] === '==' || tokens[i] === '!=') {
      const op = tokens[i++];
      const w = primary();
      const same = String(v ?? '').toLowerCase() === String(w ?? '').toLowerCase();
      v = op === '==' ? same : !same;
    }
    return v;
  };
  const and = (): unknown => {
    let v = eq();
    while (tokens[i] === '&&') {
      i++;
      const w = eq();
      v = truthy(v) ? w : v;
    }
    return v;
  };
  const or = (): unknown => {
    let v = and();
    while (tokens[i] === '||') {
      i++;
      const w = and();
      v = truthy(v) ? v : w;
    }
    return v;
  };
  const v = or();
  assert.equal(i, tokens.length, `all of ${expr} read`);
  return v;
}

const validator = join(REPO_ROOT, 'node_modules/.bin/action-validator');
const validate = (file: string) => spawnSync(validator, [file], { encoding: 'utf8', timeout: 60_000 });

describe('CI recipes', () => {
  for (const wf of ['publish.yml', 'test.yml']) {
    it(`.github/workflows/${wf} passes the GitHub Actions schema (action-validator)`, () => {
      const r = validate(join(REPO_ROOT, '.github/workflows', wf));
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });
  }
  it('the validator does reject a broken workflow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-wf-'));
    writeFileSync(join(dir, 'bad.yml'), 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n');
    assert.notEqual(validate(join(dir, 'bad.yml')).status, 0);
  });
  it('publish workflow: per-arch jobs push per-arch tags, the merge job writes the lists', () => {
    const wf = parse(readFileSync(join(REPO_ROOT, '.github/workflows/publish.yml'), 'utf8'));
    const build = wf.jobs.build.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    assert.match(build, /idekube build --all --driver docker --platform \$\{\{ matrix\.platform \}\} --push --arch-only/);
    assert.deepEqual(wf.jobs.merge.needs, 'build');
    assert.match(wf.jobs.merge.steps.map((s: { run?: string }) => s.run ?? '').join('\n'), /idekube manifest --all/);
    assert.match(wf.jobs.plan.steps.map((s: { run?: string }) => s.run ?? '').join('\n'), /idekube plan --all --json/);
  });
  it('.gitlab-ci.yml: the same shape (build per platform, then merge)', () => {
    const gl = parse(readFileSync(join(REPO_ROOT, '.gitlab-ci.yml'), 'utf8'));
    assert.deepEqual(gl.stages, ['build', 'merge']);
    assert.deepEqual(
      gl.build.parallel.matrix.map((m: { PLATFORM: string }) => m.PLATFORM),
      ['linux/amd64', 'linux/arm64'],
    );
    assert.match(gl.build.script.join('\n'), /--push --arch-only/);
    assert.deepEqual(gl.merge.needs, ['build']);
    assert.match(gl.merge.script.join('\n'), /idekube manifest --all/);
  });
  it('publish workflow: both lineups of the scheme in one run by default; a lineup or a profile alone narrows it', () => {
    const wf = parse(readFileSync(join(REPO_ROOT, '.github/workflows/publish.yml'), 'utf8'));
    const expr = /^\$\{\{(.*)\}\}$/.exec(wf.env.IDEKUBE_LINEUP)![1]!;
    const lineup = (inputs: Record<string, string>) => evaluate(expr, inputs);
    assert.equal(lineup({}), 'base,ascend', 'a release');
    assert.equal(lineup({ profile: '', lineup: '', scheme: '' }), 'base,ascend', 'a dispatch with the defaults');
    assert.equal(lineup({ scheme: 'v0.8' }), 'universal,ascend');
    assert.equal(lineup({ lineup: 'ascend', scheme: 'v0.8' }), 'ascend');
    assert.equal(lineup({ profile: 'ascend' }), '', 'a profile alone selects the lineup it names');
    assert.deepEqual(lineupsIn('v0.4', 'base,ascend'), ['base', 'ascend']);
    assert.deepEqual(lineupsIn('v0.8', 'universal,ascend'), ['universal', 'ascend']);
    for (const job of ['plan', 'build', 'merge']) {
      for (const step of wf.jobs[job].steps as Array<{ run?: string }>)
        if (step.run?.includes('npx idekube plan') || step.run?.includes('npx idekube build') || step.run?.includes('npx idekube manifest'))
          assert.match(step.run, /--all/, `${job}: ${step.run}`);
    }
  });
  it('.gitlab-ci.yml: both v0.4 lineups in one run', () => {
    const gl = parse(readFileSync(join(REPO_ROOT, '.gitlab-ci.yml'), 'utf8'));
    assert.deepEqual(lineupsIn('v0.4', gl.variables.IDEKUBE_LINEUP), ['base', 'ascend']);
  });
  it("the recipes' default selection plans in this repository: both lineups, both platforms", () => {
    for (const [args, lineups] of [
      [
        ['--lineup', 'base,ascend'],
        ['base', 'ascend'],
      ],
      [
        ['--scheme', 'v0.8', '--lineup', 'universal,ascend'],
        ['universal', 'ascend'],
      ],
    ] as const) {
      const r = runCli(['-C', REPO_ROOT, '--git-tag', 'v1.2.3', ...args, 'plan', '--all', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const plan = JSON.parse(r.stdout) as { lineups: Array<{ name: string }>; targets: Array<{ platform: string }> };
      assert.deepEqual(
        plan.lineups.map((l) => l.name),
        lineups,
      );
      assert.deepEqual([...new Set(plan.targets.map((t) => t.platform))].sort(), ['linux/amd64', 'linux/arm64']);
    }
  });
  it('every --lineup in the README names lineups of its scheme', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    // inline code and the lines of code blocks
    const blocks = [...readme.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].flatMap((m) => m[1]!.split('\n'));
    const snippets = [...readme.replace(/^```[a-z]*\n[\s\S]*?^```$/gm, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!).concat(blocks);
    const uses = snippets.flatMap((x) =>
      [...x.matchAll(/--lineup[ =]([\w,-]+)/g)].map((m) => ({
        text: x,
        names: m[1]!,
        scheme: (/--scheme[ =](v0\.\d)/.exec(x)?.[1] ?? 'v0.4') as Scheme,
      })),
    );
    assert.ok(uses.length > 20, `found ${uses.length}`);
    for (const u of uses) {
      // a bare `--lineup ascend` next to v0.8 prose is still a valid v0.4 name; `universal` always comes with --scheme v0.8
      assert.doesNotThrow(() => lineupsIn(u.scheme, u.names), `${u.names} in scheme ${u.scheme}: ${u.text}`);
    }
  });
});
