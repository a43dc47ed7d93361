/** `idekube test --only`: which planned checks run, and what the flag accepts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTestFlags } from '../../src/cli/commands/test.js';
import type { PlannedCheck } from '../../src/verify/registry.js';
import { selectChecks } from '../../src/verify/run.js';

const planned: PlannedCheck[] = [
  'nginx',
  'landing',
  'health',
  'health degraded',
  'health 502',
  'healthy-ish',
  'auth 401',
  'auth query',
  'ssh banner',
  'uid remap',
  'host key kept',
].map((name) => ({ name, group: 'main', from: 'test' }));
const names = (only?: string[]) => selectChecks(planned, only).map((p) => p.name);

describe('idekube test --only', () => {
  it('without --only every planned check runs', () => {
    assert.deepEqual(
      names(),
      planned.map((p) => p.name),
    );
  });
  it('a name selects that check; a word selects the checks it starts followed by a space', () => {
    assert.deepEqual(names(['health']), ['health', 'health degraded', 'health 502']);
    assert.deepEqual(names(['auth', 'uid remap']), ['auth 401', 'auth query', 'uid remap']);
    assert.deepEqual(names(['host key kept', 'nginx']), ['nginx', 'host key kept']);
    assert.deepEqual(names(['heal']), [], 'no partial words');
  });
  it('the flag takes a comma-separated list and refuses anything else (exit 2 with an example)', () => {
    assert.deepEqual(parseTestFlags({ only: 'auth, health ,terminal' }, {}).only, ['auth', 'health', 'terminal']);
    assert.equal(parseTestFlags({}, {}).only, undefined);
    for (const bad of ['', ' , ', 'auth;rm', 'Auth'])
      assert.throws(() => parseTestFlags({ only: bad }, {}), /--only .* is not a list of check names/);
  });
});
