/** Image references: parts, familiar form, slugs and cache refs (config/image-ref.ts). No engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { archCacheRef, familiarName, parseRef, referenceProblem, sharedCacheRef, slug, splitTag } from '../../src/config/image-ref.js';

describe('image references', () => {
  it('parts, with Docker Hub and library/ filled in', () => {
    assert.deepEqual(parseRef('debian'), { registry: 'docker.io', repository: 'library/debian', reference: 'latest' });
    assert.deepEqual(parseRef('davidliyutong/idekube-container:web-base-v1'), {
      registry: 'docker.io',
      repository: 'davidliyutong/idekube-container',
      reference: 'web-base-v1',
    });
    assert.deepEqual(parseRef('localhost:5000/a/b'), { registry: 'localhost:5000', repository: 'a/b', reference: 'latest' });
    assert.deepEqual(parseRef('127.0.0.1:5000/a/b:t-amd64'), { registry: '127.0.0.1:5000', repository: 'a/b', reference: 't-amd64' });
    const digest = `sha256:${'0'.repeat(64)}`;
    assert.deepEqual(parseRef(`ghcr.io/x/y@${digest}`), { registry: 'ghcr.io', repository: 'x/y', reference: digest });
  });
  it('a tag is split off as written; a port is not a tag', () => {
    assert.deepEqual(splitTag('localhost:5000/x/y:v1'), { name: 'localhost:5000/x/y', tag: 'v1' });
    assert.deepEqual(splitTag('localhost:5000/x/y'), { name: 'localhost:5000/x/y' });
    assert.deepEqual(splitTag('debian:bookworm'), { name: 'debian', tag: 'bookworm' });
  });
  it('the familiar form BuildKit matches named contexts by', () => {
    assert.equal(familiarName('docker.io/library/debian:latest'), 'debian');
    assert.equal(
      familiarName('docker.io/davidliyutong/idekube-container:web-base-v1-amd64'),
      'davidliyutong/idekube-container:web-base-v1-amd64',
    );
    assert.equal(familiarName('127.0.0.1:5000/a/b:latest'), '127.0.0.1:5000/a/b');
  });
  it('a flavor id as a name part', () => {
    assert.equal(slug('featured/base'), 'featured-base');
    assert.equal(slug('coder-lite/x'), 'coder-lite-x');
  });
  it('per-arch cache refs are the shared one plus the arch, and back', () => {
    const shared = 'docker.io/davidliyutong/idekube-container:buildcache-web-base-ascend';
    assert.equal(archCacheRef(shared, 'arm64'), `${shared}-arm64`);
    for (const arch of ['amd64', 'arm64'] as const) assert.equal(sharedCacheRef(archCacheRef(shared, arch)), shared);
    assert.equal(sharedCacheRef(shared), shared);
  });
  it('the grammar check names the rule broken', () => {
    assert.equal(referenceProblem('reg.example/a/b:v1'), undefined);
    assert.equal(referenceProblem('reg.example:5000/a/b'), 'it has no tag');
    assert.equal(referenceProblem('b:v1'), 'it has no registry part');
    assert.match(referenceProblem('reg.example/A/b:v1')!, /^path component "A" must be lower-case/);
  });
});
