/** Structural checks over the whole production catalog (both profiles). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { allLayers, platformsOf } from '../../src/config/catalog.js';
import { parentOf } from '../../src/config/model.js';
import { loadProject } from '../../src/config/project.js';
import { resolveArgs } from '../../src/config/resolve.js';
import { generateFlavor } from '../../src/generate/flavor.js';
import { REPO_ROOT } from '../helpers/project.js';

const profiles = ['default', 'ascend'];
const load = (profile: string) =>
  loadProject({ dir: REPO_ROOT, ...(profile === 'default' ? {} : { profile }), sets: [], flags: { GIT_TAG: 'v0.0.0' }, env: {} });

function shellScripts(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...shellScripts(p));
    else if (n.endsWith('.sh')) out.push(p);
  }
  return out;
}

/** Instructions of a Dockerfile without comments and blank lines (what BuildKit's cache keys see). */
export function instructions(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trimStart().startsWith('#'));
}

describe('production catalog structure', () => {
  for (const profile of profiles) {
    it(`every arg a layer reads has a value (profile ${profile})`, () => {
      const p = load(profile);
      for (const id of p.catalog.order) {
        const missing = resolveArgs(p.catalog, p.layered, id).filter((a) => a.value === null);
        assert.deepEqual(
          missing.map((a) => a.key),
          [],
          `${id}: args without a value`,
        );
      }
    });
  }

  it('every layer script exists and passes shellcheck', () => {
    const scripts = [...shellScripts(join(REPO_ROOT, 'artifacts')), ...shellScripts(join(REPO_ROOT, 'test/fixtures/catalog/artifacts'))];
    assert.ok(scripts.length > 20, `found ${scripts.length} scripts`);
    const r = spawnSync('shellcheck', ['-x', '-S', 'warning', ...scripts], { encoding: 'utf8', cwd: REPO_ROOT });
    assert.ok(!r.error, `shellcheck is not installed (test/env/setup.sh installs it): ${r.error?.message}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('every service has its nginx locations and supervisord programs', () => {
    const p = load('default');
    for (const id of p.catalog.order) {
      const g = generateFlavor(p, id);
      const conf = (path: string) => g.files.find((f) => f.path === path)?.text;
      const nginx = conf('runtime/etc/nginx/conf.d/idekube.conf');
      const sup = conf('runtime/etc/supervisor/conf.d/idekube.conf');
      if (!parentOf(p.catalog.flavors.get(id)!)) assert.ok(nginx && sup, `${id} has generated runtime config`);
      if (!nginx || !sup) continue;
      for (const s of g.services) {
        for (const r of s.routes)
          assert.match(nginx, new RegExp(`location (= )?${r.path.replace(/[/.]/g, '\\$&')} \\{`), `${id}: nginx location for ${r.path}`);
        for (const prog of Object.keys(s.programs))
          assert.match(sup, new RegExp(`^\\[program:${prog}\\]$`, 'm'), `${id}: supervisord program ${prog}`);
      }
      assert.match(sup, /^\[program:nginx\]$/m);
    }
  });

  it("featured/isaac is amd64 only; children build a subset of their parent's platforms", () => {
    const p = load('default');
    assert.deepEqual(platformsOf(p.catalog, 'featured/isaac'), ['linux/amd64']);
    for (const id of p.catalog.order) {
      const parent = parentOf(p.catalog.flavors.get(id)!);
      if (!parent) continue;
      const mine = platformsOf(p.catalog, id);
      const theirs = platformsOf(p.catalog, parent);
      assert.ok(
        mine.every((x) => theirs.includes(x)),
        `${id}: ${mine} ⊄ ${theirs}`,
      );
    }
  });

  it('coder/base and featured/base generate identical instructions up to their first different layer', () => {
    const p = load('default');
    const a = allLayers(p.catalog, 'coder/base').map((l) => l.name);
    const b = allLayers(p.catalog, 'featured/base').map((l) => l.name);
    let shared = 0;
    while (shared < a.length && a[shared] === b[shared]) shared++;
    assert.ok(shared >= 4, `they share ${shared} layers`);
    const ia = instructions(generateFlavor(p, 'coder/base').dockerfile);
    const ib = instructions(generateFlavor(p, 'featured/base').dockerfile);
    // the first instruction of the first differing layer: the instruction after the last shared layer's
    const firstDiff = ia.findIndex((line, i) => line !== ib[i]);
    const before = ia.slice(0, firstDiff).join('\n');
    for (const l of a.slice(0, shared))
      assert.ok(before.includes(`/layers/${l}/`) || !p.catalog.layers.get(l)!.run, `layer ${l} is inside the shared prefix`);
    assert.ok(!before.includes(`/layers/${a[shared]}/`), 'the prefix stops at the first different layer');
    assert.ok(firstDiff > 5, `shared prefix of ${firstDiff} instructions`);
  });

  it('generation is deterministic (same inputs, same bytes)', () => {
    const p1 = load('default');
    const p2 = load('default');
    for (const id of p1.catalog.order) {
      const a = generateFlavor(p1, id);
      const b = generateFlavor(p2, id);
      assert.equal(a.dockerfile, b.dockerfile);
      assert.deepEqual(
        a.files.map((f) => [f.path, f.text ?? f.source, f.mode]),
        b.files.map((f) => [f.path, f.text ?? f.source, f.mode]),
      );
    }
  });

  it('a build context holds only what the flavor needs (no .git, no other flavors, no caches)', () => {
    const p = load('default');
    const g = generateFlavor(p, 'featured/dind');
    const layerDirs = new Set(g.files.filter((f) => f.path.startsWith('layers/')).map((f) => f.path.split('/')[1]));
    assert.deepEqual([...layerDirs], ['dind']);
    assert.ok(g.files.every((f) => !/(^|\/)\.git(\/|$)|node_modules|\.idekube/.test(f.path)));
  });
});
