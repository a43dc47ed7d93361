import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceProblem } from '../../src/config/image-ref.js';
import { aliasTags, flavorTag, imageRef, type ImageNaming } from '../../src/config/tags.js';
import { parseReleaseTag, type GitVersion } from '../../src/config/version.js';

const naming: ImageNaming = { registry: 'docker.io', author: 'davidliyutong', name: 'idekube-container', gitTag: 'v0.4.2', postfix: '' };

describe('tag grammar (upstream-compatible)', () => {
  it('multi-arch and per-arch tags', () => {
    assert.equal(imageRef('featured/base', naming), 'docker.io/davidliyutong/idekube-container:featured-base-v0.4.2');
    assert.equal(
      imageRef('featured/base', naming, { arch: 'amd64' }),
      'docker.io/davidliyutong/idekube-container:featured-base-v0.4.2-amd64',
    );
  });
  it('puts the postfix before the arch', () => {
    const n = { ...naming, postfix: '-ascend' };
    assert.equal(
      imageRef('featured/base', n, { arch: 'arm64' }),
      'docker.io/davidliyutong/idekube-container:featured-base-v0.4.2-ascend-arm64',
    );
    assert.equal(flavorTag('jupyter/speit-ascendai', n), 'jupyter-speit-ascendai-v0.4.2-ascend');
  });
  it('QEMU images use <NAME>-qemu', () => {
    assert.equal(
      imageRef('featured/kathara', naming, { qemu: true, arch: 'amd64' }),
      'docker.io/davidliyutong/idekube-container-qemu:featured-kathara-v0.4.2-amd64',
    );
  });
});

describe('reference validation', () => {
  const ok = [
    'docker.io/a/b:t',
    '127.0.0.1:5000/idekube-test/x:featured-base-v1-amd64',
    'localhost:5000/a.b/c__d:x.y-z',
    `reg.example/a/b:${'x'.repeat(128)}`,
  ];
  for (const r of ok) it(`accepts ${r.slice(0, 60)}`, () => assert.equal(referenceProblem(r), undefined));
  const bad: Array<[string, RegExp]> = [
    ['docker.io/Upper/b:t', /path component "Upper"/],
    ['docker.io/a/b', /no tag/],
    ['docker.io/a/b:-t', /tag "-t"/],
    [`docker.io/a/b:${'x'.repeat(129)}`, /tag/],
    ['bad host/a/b:t', /registry "bad host"/],
    ['docker.io/a--/b:t', /path component "a--"/],
  ];
  for (const [r, re] of bad) it(`rejects ${r.slice(0, 40)}`, () => assert.match(referenceProblem(r) ?? '', re));
});

describe('alias tags', () => {
  const version = (gitTag: string, source: GitVersion['source']): GitVersion => {
    const sv = parseReleaseTag(gitTag);
    return { gitTag, source, ...(sv ? { semver: sv } : {}), notes: [] };
  };
  it('latest, major and minor for an exact release (v prefix kept)', () => {
    const r = aliasTags('featured/base', naming, version('v0.4.2', 'exact'), ['latest', 'minor', 'major']);
    assert.deepEqual(r.tags, [
      'docker.io/davidliyutong/idekube-container:featured-base-latest',
      'docker.io/davidliyutong/idekube-container:featured-base-v0.4',
      'docker.io/davidliyutong/idekube-container:featured-base-v0',
    ]);
  });
  it('postfix applies to aliases', () => {
    const r = aliasTags('featured/base', { ...naming, gitTag: '1.2.3', postfix: '-ascend' }, version('1.2.3', 'explicit'), [
      'latest',
      'minor',
    ]);
    assert.deepEqual(r.tags, [
      'docker.io/davidliyutong/idekube-container:featured-base-latest-ascend',
      'docker.io/davidliyutong/idekube-container:featured-base-1.2-ascend',
    ]);
  });
  it('never for builds between tags, dev builds or prereleases', () => {
    assert.match(
      aliasTags('a/b', { ...naming, gitTag: 'v0.4.2-3-gabc1234' }, version('v0.4.2-3-gabc1234', 'described'), ['latest']).skipped!,
      /not a release tag/,
    );
    assert.match(
      aliasTags('a/b', { ...naming, gitTag: 'dev-abc1234' }, version('dev-abc1234', 'untagged'), ['latest']).skipped!,
      /not a release tag/,
    );
    assert.match(
      aliasTags('a/b', { ...naming, gitTag: 'v1.0.0-rc.1' }, version('v1.0.0-rc.1', 'exact'), ['latest']).skipped!,
      /prerelease/,
    );
  });
});
