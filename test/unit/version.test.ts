import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/config/errors.js';
import { resolveGitVersion } from '../../src/config/version.js';
import { cleanup, git } from '../helpers/project.js';

const dirs: string[] = [];
after(() => dirs.forEach(cleanup));

function repo(): { dir: string; commit: (msg: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'idekube-git-'));
  dirs.push(dir);
  git(dir, 'init', '-q', '-b', 'main');
  let n = 0;
  return {
    dir,
    commit: (msg) => {
      writeFileSync(join(dir, 'f'), String(n++));
      git(dir, 'add', 'f');
      git(dir, 'commit', '-q', '-m', msg);
      return git(dir, 'rev-parse', '--short=7', 'HEAD');
    },
  };
}

describe('GIT_TAG resolution', () => {
  it('an explicit value wins over git', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', 'v1.0.0');
    const v = resolveGitVersion(r.dir, { value: 'v9.9.9', from: 'env GIT_TAG' });
    assert.deepEqual([v.gitTag, v.source, v.semver?.version], ['v9.9.9', 'explicit', '9.9.9']);
  });
  it('an explicit value that is not a valid tag part is an input error', () => {
    assert.throws(
      () => resolveGitVersion('.', { value: 'a b', from: 'env GIT_TAG' }),
      (e: unknown) => e instanceof InputError && /GIT_TAG "a b" \(from env GIT_TAG\) is not a valid Docker tag part/.test(e.message),
    );
  });
  it('the semver tag at HEAD (the highest when several)', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', 'v1.0.0');
    git(r.dir, 'tag', 'v1.0.1');
    git(r.dir, 'tag', 'ubuntu-20.04');
    const v = resolveGitVersion(r.dir);
    assert.deepEqual([v.gitTag, v.source], ['v1.0.1', 'exact']);
  });
  it('not the highest tag of the repo, only what HEAD can reach (upstream bug 1)', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', 'v0.3.0');
    git(r.dir, 'checkout', '-q', '-b', 'other');
    r.commit('two');
    git(r.dir, 'tag', 'v0.9.0');
    git(r.dir, 'checkout', '-q', 'main');
    const sha = r.commit('three');
    const v = resolveGitVersion(r.dir);
    assert.deepEqual([v.gitTag, v.source], [`v0.3.0-1-g${sha}`, 'described']);
  });
  it('highest reachable semver tag plus -<n>-g<sha> between tags; non-semver tags never win', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', 'v0.4.1');
    r.commit('two');
    git(r.dir, 'tag', 'v0.4.2');
    git(r.dir, 'tag', 'zzz-not-semver');
    r.commit('three');
    const sha = r.commit('four');
    const v = resolveGitVersion(r.dir);
    assert.deepEqual([v.gitTag, v.source], [`v0.4.2-2-g${sha}`, 'described']);
  });
  it('a prerelease tag counts as semver; build metadata (+) does not', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', 'v2.0.0-rc.1');
    git(r.dir, 'tag', 'v3.0.0+build5');
    const v = resolveGitVersion(r.dir);
    assert.deepEqual([v.gitTag, v.source, v.semver?.prerelease], ['v2.0.0-rc.1', 'exact', ['rc', 1]]);
    assert.match(v.notes.join(), /ignored non-semver tags: v3\.0\.0\+build5/);
  });
  it('annotated tags count like lightweight ones, at HEAD and behind it', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', '-a', '-m', 'release', 'v1.1.0');
    assert.deepEqual([resolveGitVersion(r.dir).gitTag, resolveGitVersion(r.dir).source], ['v1.1.0', 'exact']);
    const sha = r.commit('two');
    assert.deepEqual([resolveGitVersion(r.dir).gitTag, resolveGitVersion(r.dir).source], [`v1.1.0-1-g${sha}`, 'described']);
  });
  it('"dev" in a repository without commits', () => {
    const r = repo();
    assert.deepEqual([resolveGitVersion(r.dir).gitTag, resolveGitVersion(r.dir).source], ['dev', 'no-git']);
  });
  it('dev-<sha> when no semver tag exists', () => {
    const r = repo();
    const sha = r.commit('one');
    git(r.dir, 'tag', 'dev');
    const v = resolveGitVersion(r.dir);
    assert.deepEqual([v.gitTag, v.source], [`dev-${sha}`, 'untagged']);
  });
  it('says so on a shallow clone without tags', () => {
    const r = repo();
    r.commit('one');
    git(r.dir, 'tag', 'v1.0.0');
    r.commit('two');
    const clone = mkdtempSync(join(tmpdir(), 'idekube-shallow-'));
    dirs.push(clone);
    const res = spawnSync('git', ['clone', '-q', '--depth', '1', '--no-tags', `file://${r.dir}`, clone], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const v = resolveGitVersion(clone);
    assert.match(v.gitTag, /^dev-[0-9a-f]{7}$/);
    assert.match(v.notes.join(), /shallow clone without tags/);
  });
  it('"dev" outside a git checkout, never empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idekube-nogit-'));
    dirs.push(dir);
    const v = resolveGitVersion(dir);
    assert.deepEqual([v.gitTag, v.source], ['dev', 'no-git']);
  });
});
