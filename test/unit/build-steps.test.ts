import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserStep } from '../../src/engine/build.js';

describe('which BuildKit vertexes count as build steps', () => {
  it('RUN and COPY steps count, also in named stages', () => {
    assert.ok(isUserStep('[2/7] RUN --mount=type=bind,source=layers/x bash /tmp/idekube/layers/x/install.sh'));
    assert.ok(isUserStep('[6/7] COPY runtime/ /'));
    assert.ok(isUserStep('[layer-isaac 2/3] COPY --from=layer-isaac /isaac-sim /opt/isaac-sim'));
  });
  it('FROM, context and metadata vertexes do not', () => {
    assert.ok(!isUserStep('[1/8] FROM 127.0.0.1:5000/idekube-test/debian:bookworm@sha256:2aa1'));
    assert.ok(!isUserStep('[internal] load remote build context'));
    assert.ok(!isUserStep('[internal] load metadata for 127.0.0.1:5000/x:y'));
    assert.ok(!isUserStep('exporting to image'));
  });
});
