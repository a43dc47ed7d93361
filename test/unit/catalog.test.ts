import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { allLayers, loadCatalog, platformsOf, servicesOf } from '../../src/config/catalog.js';
import { InputErrors } from '../../src/config/errors.js';
import { BASE_FILES, cleanup, makeProject } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));
const load = (overrides: Record<string, string> = {}) => {
  const dir = makeProject(BASE_FILES, overrides);
  dirs.push(dir);
  return loadCatalog(dir);
};

describe('catalog graph', () => {
  it('orders parents before children, ties by name (stable)', () => {
    assert.deepEqual(load().order, ['alpha/base', 'alpha/child', 'alpha/grandchild', 'beta/base']);
  });
  it('children come after their parent even when their name sorts first', () => {
    const c = load({ 'flavors/aaa/first/flavor.yaml': 'from:\n  parent: beta/base\n' });
    assert.ok(c.order.indexOf('beta/base') < c.order.indexOf('aaa/first'));
  });
  it('inherits platforms, layers and services down the chain', () => {
    const c = load();
    assert.deepEqual(platformsOf(c, 'alpha/child'), ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(platformsOf(c, 'alpha/grandchild'), ['linux/amd64']);
    assert.deepEqual(
      allLayers(c, 'alpha/grandchild').map((l) => l.name),
      ['base', 'tool', 'extra', 'amd64only'],
    );
    assert.deepEqual(
      servicesOf(c, 'alpha/child').map((s) => `${s.layer}:${s.name}`),
      ['tool:web'],
    );
  });
  it('detects a two-flavor cycle and names it', () => {
    assert.throws(
      () => load({ 'flavors/alpha/base/flavor.yaml': 'from:\n  parent: alpha/child\n' }),
      (e: Error) => /dependency cycle: alpha\/base → alpha\/child → alpha\/base/.test(e.message),
    );
  });
  it('detects a self cycle', () => {
    assert.throws(
      () => load({ 'flavors/beta/base/flavor.yaml': 'from:\n  parent: beta/base\n' }),
      /dependency cycle: beta\/base → beta\/base/,
    );
  });
  it('detects a longer cycle once', () => {
    try {
      load({
        'flavors/c/one/flavor.yaml': 'from:\n  parent: c/two\n',
        'flavors/c/two/flavor.yaml': 'from:\n  parent: c/three\n',
        'flavors/c/three/flavor.yaml': 'from:\n  parent: c/one\n',
      });
      assert.fail('expected a cycle');
    } catch (e) {
      assert.match((e as Error).message, /dependency cycle: c\/one → c\/two → c\/three → c\/one/);
      assert.ok(!(e instanceof InputErrors), 'one cycle is reported once');
    }
  });
});
