/** Platforms and the names of an architecture in each tool's vocabulary (config/platform.ts). No engine. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ARCH_NAMES,
  ARCHS,
  PLATFORMS,
  archOf,
  archOfName,
  archOfNode,
  isPlatform,
  parseArch,
  parsePlatforms,
  platformOf,
} from '../../src/config/platform.js';

describe('platforms and architectures', () => {
  it('a platform and its architecture map both ways', () => {
    assert.deepEqual(PLATFORMS.map(archOf), ['amd64', 'arm64']);
    assert.deepEqual(ARCHS.map(platformOf), ['linux/amd64', 'linux/arm64']);
    assert.ok(isPlatform('linux/arm64'));
    assert.ok(!isPlatform('linux/arm/v7'));
    assert.ok(!isPlatform('arm64'));
  });
  it('each tool names an architecture its own way', () => {
    assert.deepEqual(ARCH_NAMES.amd64, { platform: 'linux/amd64', deb: 'amd64', uname: 'x86_64', qemu: 'x86_64', node: 'x64' });
    assert.deepEqual(ARCH_NAMES.arm64, { platform: 'linux/arm64', deb: 'arm64', uname: 'aarch64', qemu: 'aarch64', node: 'arm64' });
  });
  it("Node's names: x64 is amd64, anything else idekube does not build is none", () => {
    assert.equal(archOfNode('x64'), 'amd64');
    assert.equal(archOfNode('arm64'), 'arm64');
    assert.equal(archOfNode('s390x'), undefined);
    assert.equal(archOfNode('amd64'), undefined);
  });
  it('--arch takes Docker, uname and platform words', () => {
    for (const [text, arch] of [
      ['amd64', 'amd64'],
      ['x86_64', 'amd64'],
      ['linux/amd64', 'amd64'],
      ['arm64', 'arm64'],
      ['aarch64', 'arm64'],
      ['linux/arm64', 'arm64'],
    ] as const) {
      assert.equal(archOfName(text), arch, text);
      assert.equal(parseArch(text), arch, text);
    }
    assert.equal(archOfName('x64'), undefined);
    assert.throws(() => parseArch('riscv64'), { message: '--arch "riscv64": expected amd64 or arm64', fix: 'e.g. --arch arm64' });
    assert.throws(() => parseArch('armhf', '--guest'), { message: '--guest "armhf": expected amd64 or arm64' });
  });
  it('no --arch: the host given, or an error on a host that is neither', () => {
    assert.equal(parseArch(undefined, '--arch', 'arm64'), 'arm64');
    assert.equal(parseArch(undefined, '--arch', 'amd64'), 'amd64');
    assert.throws(
      () => parseArch(undefined, '--arch', null),
      (e: Error & { fix?: string }) => /is neither amd64 nor arm64$/.test(e.message) && e.fix === 'pass --arch amd64 or --arch arm64',
    );
  });
  it('a platform list: trimmed, deduplicated, in the order given; anything else refused', () => {
    assert.equal(parsePlatforms(undefined, '--platform'), undefined);
    assert.deepEqual(parsePlatforms(' linux/arm64, linux/amd64,linux/arm64 ', '--platform'), ['linux/arm64', 'linux/amd64']);
    assert.throws(() => parsePlatforms('linux/amd64,linux/s390x', 'IDEKUBE_PLATFORMS'), {
      message: 'IDEKUBE_PLATFORMS "linux/amd64,linux/s390x": unsupported platform "linux/s390x"',
      fix: 'use a comma-separated list of: linux/amd64, linux/arm64',
    });
    assert.throws(() => parsePlatforms(' , ', '--platform'), { message: '--platform " , ": unsupported platform (empty)' });
  });
});
