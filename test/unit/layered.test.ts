/** Layered lookup: the last source to give a key wins, and keeps what it replaced (config/layered.ts). No engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileCandidates, lookupLayered, type Candidate } from '../../src/config/layered.js';
import { argCandidates } from '../../src/config/sources.js';

const file = (name: string, key: string, value: string, line = 1) => ({ key, value, file: name, line });

describe('layered lookup', () => {
  it('the last candidate wins; the ones it replaced are kept, lowest first', () => {
    const candidates: Candidate[] = [
      { key: 'A', value: 'default', origin: { kind: 'default', what: 'idekube' } },
      { key: 'B', value: 'other', origin: { kind: 'env', name: 'B' } },
      { key: 'A', value: 'file', origin: { kind: 'file', file: '.dockerargs', line: 3 } },
      { key: 'A', value: 'flag', origin: { kind: 'flag', flag: '--a' } },
    ];
    assert.deepEqual(lookupLayered(candidates, 'A'), {
      key: 'A',
      value: 'flag',
      origin: { kind: 'flag', flag: '--a' },
      overridden: [
        { value: 'default', origin: { kind: 'default', what: 'idekube' } },
        { value: 'file', origin: { kind: 'file', file: '.dockerargs', line: 3 } },
      ],
    });
    assert.equal(lookupLayered(candidates, 'C'), undefined);
  });
  it('file entries come with their file and line', () => {
    assert.deepEqual(fileCandidates([file('.dockerargs.ascend', 'K', 'v', 7)]), [
      { key: 'K', value: 'v', origin: { kind: 'file', file: '.dockerargs.ascend', line: 7 } },
    ]);
  });
  it('build args: .dockerargs < profile < flavor file < IDEKUBE_ARG_ < --set', () => {
    const layered = {
      base: [file('.dockerargs', 'K', 'base')],
      profile: { name: 'p', file: '.dockerargs.p', entries: [file('.dockerargs.p', 'K', 'profile')] },
      env: [{ key: 'K', value: 'env', name: 'IDEKUBE_ARG_K' }],
      sets: [
        { key: 'K', value: 'set1' },
        { key: 'K', value: 'set2' },
      ],
    };
    const own = [file('flavors/web/base/.dockerargs', 'K', 'flavor')];
    const found = lookupLayered(argCandidates(layered, own), 'K')!;
    assert.equal(found.value, 'set2');
    assert.deepEqual(found.origin, { kind: 'flag', flag: '--set K' });
    assert.deepEqual(
      found.overridden.map((v) => v.value),
      ['base', 'profile', 'flavor', 'env', 'set1'],
    );
    // without the --set and the variable, the flavor's own file wins over the profile
    const quiet = lookupLayered(argCandidates({ ...layered, env: [], sets: [] }, own), 'K')!;
    assert.deepEqual([quiet.value, quiet.origin], ['flavor', { kind: 'file', file: 'flavors/web/base/.dockerargs', line: 1 }]);
  });
});
