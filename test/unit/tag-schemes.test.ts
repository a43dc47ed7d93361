/**
 * Both tag schemes, pinned: the rules of upstream v0.8's tests/test_image_refs.py as assertions, then every
 * built-in lineup flavor × scheme × its profile → refs (list, per-arch, staging, alias, VM) as a golden table
 * (test/golden/tags/refs.txt; regenerate this file alone with UPDATE_GOLDEN=1 node --test dist/test/unit/tag-schemes.test.js).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILTIN_LINEUPS } from '../../src/config/lineups.js';
import { archOf } from '../../src/config/platform.js';
import { referenceProblem } from '../../src/config/image-ref.js';
import { aliasRef, cacheRef, imageRef, type ImageNaming } from '../../src/config/tags.js';
import { golden } from '../helpers/golden.js';

// upstream's fixture: VERSION=v1.2.3, ghcr.io/idekube-project, NAME_PREFIX idekube-container
const upstream: ImageNaming = {
  registry: 'ghcr.io',
  author: 'idekube-project',
  name: 'idekube-container',
  gitTag: 'v1.2.3',
  postfix: '',
  scheme: 'v0.8',
};
const ascend = { ...upstream, postfix: '-ascend' };

describe('tag scheme v0.8 (upstream tests/test_image_refs.py)', () => {
  it('a base image uses the bare version tag', () =>
    assert.equal(imageRef('featured/base', upstream), 'ghcr.io/idekube-project/idekube-container-featured-base:v1.2.3'));
  it('a base image on ascend keeps the lineup postfix', () =>
    assert.equal(imageRef('featured/base', ascend), 'ghcr.io/idekube-project/idekube-container-featured-base:v1.2.3-ascend'));
  it('an application image keeps the variant prefix', () =>
    assert.equal(imageRef('featured/speit', upstream), 'ghcr.io/idekube-project/idekube-container-featured:speit-v1.2.3'));
  it('an application image on ascend keeps the variant prefix', () =>
    assert.equal(imageRef('jupyter/speit-ai', ascend), 'ghcr.io/idekube-project/idekube-container-jupyter:speit-ai-v1.2.3-ascend'));
  it('the staging postfix comes after the lineup postfix', () => {
    assert.equal(
      imageRef('coder/base', { ...upstream, staging: true }),
      'ghcr.io/idekube-project/idekube-container-coder-base:v1.2.3-staging',
    );
    assert.equal(
      imageRef('jupyter/base', { ...ascend, staging: true }),
      'ghcr.io/idekube-project/idekube-container-jupyter-base:v1.2.3-ascend-staging',
    );
  });
  it('a VM image of a base variant appends -qemu', () =>
    assert.equal(
      imageRef('featured/base', upstream, { qemu: true }),
      'ghcr.io/idekube-project/idekube-container-featured-base:v1.2.3-qemu',
    ));
  it('a VM image of an application appends -qemu after the version', () =>
    assert.equal(
      imageRef('featured/kathara', upstream, { qemu: true }),
      'ghcr.io/idekube-project/idekube-container-featured:kathara-v1.2.3-qemu',
    ));
  it('stable aliases (tag-stable.sh): stable[-ascend], <variant>-stable[-ascend], never staged', () => {
    assert.equal(
      aliasRef('featured/base', { ...upstream, staging: true }, 'stable'),
      'ghcr.io/idekube-project/idekube-container-featured-base:stable',
    );
    assert.equal(aliasRef('featured/base', ascend, 'stable'), 'ghcr.io/idekube-project/idekube-container-featured-base:stable-ascend');
    assert.equal(
      aliasRef('jupyter/speit-ai', ascend, 'stable'),
      'ghcr.io/idekube-project/idekube-container-jupyter:speit-ai-stable-ascend',
    );
  });
  it("per-arch tags end in the arch, as in v0.4; the cache lives in the image's own repository", () => {
    assert.equal(
      imageRef('featured/speit', upstream, { arch: 'arm64' }),
      'ghcr.io/idekube-project/idekube-container-featured:speit-v1.2.3-arm64',
    );
    assert.equal(
      cacheRef('featured/speit', ascend, 'amd64'),
      'ghcr.io/idekube-project/idekube-container-featured:buildcache-speit-ascend-amd64',
    );
  });
});

describe('tag scheme v0.4 is unchanged; staging is its postfix plus -staging', () => {
  const v04: ImageNaming = {
    registry: 'docker.io',
    author: 'davidliyutong',
    name: 'idekube-container',
    gitTag: 'v0.4.2',
    postfix: '-ascend',
  };
  it('the original grammar', () => {
    assert.equal(
      imageRef('featured/base', v04, { arch: 'arm64' }),
      'docker.io/davidliyutong/idekube-container:featured-base-v0.4.2-ascend-arm64',
    );
    assert.equal(
      imageRef('featured/base', { ...v04, scheme: 'v0.4' }),
      'docker.io/davidliyutong/idekube-container:featured-base-v0.4.2-ascend',
    );
    assert.equal(
      cacheRef('featured/base', v04, 'amd64'),
      'docker.io/davidliyutong/idekube-container:buildcache-featured-base-ascend-amd64',
    );
    assert.equal(aliasRef('featured/base', v04, 'latest'), 'docker.io/davidliyutong/idekube-container:featured-base-latest-ascend');
  });
  it('staging', () =>
    assert.equal(
      imageRef('coder/base', { ...v04, postfix: '', staging: true }, { arch: 'amd64' }),
      'docker.io/davidliyutong/idekube-container:coder-base-v0.4.2-staging-amd64',
    ));
});

describe('every built-in lineup flavor × scheme × profile (golden table)', () => {
  it('test/golden/tags/refs.txt', () => {
    const lines: string[] = ['# scheme lineup flavor: list | per-arch | staging list | alias | VM image', ''];
    for (const lineup of BUILTIN_LINEUPS) {
      // the lineup's profile gives the postfix, as .dockerargs.ascend does
      const naming: ImageNaming = { ...upstream, scheme: lineup.scheme, postfix: lineup.profile === 'ascend' ? '-ascend' : '' };
      lines.push(`## ${lineup.scheme} ${lineup.name} (${lineup.profile ?? 'default'}: ${lineup.platforms.join(', ')})`);
      for (const id of lineup.flavors) {
        const refs = [
          imageRef(id, naming),
          ...lineup.platforms.map((p) => imageRef(id, naming, { arch: archOf(p) })),
          imageRef(id, { ...naming, staging: true }),
          aliasRef(id, naming, lineup.scheme === 'v0.8' ? 'stable' : 'latest'),
          imageRef(id, naming, { qemu: true }),
        ];
        for (const r of refs) assert.equal(referenceProblem(r), undefined, r);
        lines.push(`${lineup.scheme} ${lineup.name} ${id}: ${refs.join(' | ')}`);
      }
      lines.push('');
    }
    golden('tags/refs.txt', lines.join('\n'), 'tag-schemes');
  });
});
