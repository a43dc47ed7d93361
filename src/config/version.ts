/**
 * GIT_TAG: explicit value > semver tag at HEAD > highest semver tag reachable from HEAD + "-<n>-g<sha>" > "dev-<sha>".
 * Never empty, never a non-semver tag (upstream picked the highest tag of the whole repo, or nothing on shallow clones).
 */
import { createRequire } from 'node:module';
import type semver from 'semver';
import { InputError, quoteShort, type Location } from './errors.js';
import { gitOutput } from './git.js';
import { byCodeUnit } from './order.js';
import { TAG_RULE, tagProblem } from './image-ref.js';

export type GitTagSource = 'explicit' | 'exact' | 'described' | 'untagged' | 'no-git';

export interface GitVersion {
  gitTag: string;
  source: GitTagSource;
  /** Set when gitTag is an exact release or prerelease tag (aliases are derived from it). */
  semver?: semver.SemVer;
  /** Things the user should know (shallow clone, ignored tags…). */
  notes: string[];
  /** Set when HEAD is an exact release tag but files that go into images have uncommitted changes (what, briefly). */
  dirty?: string;
}

/** A Docker tag component: [A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters (tags.ts holds the one check). */
export const TAG_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Release tags we accept: 1.2.3 or v1.2.3, optional -prerelease; no +build (not allowed in Docker tags). */
const RELEASE = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

// semver is loaded on first use (list and config never need it)
let lib: typeof semver | undefined;
function semverLib(): typeof semver {
  lib ??= createRequire(import.meta.url)('semver') as typeof semver;
  return lib;
}

export function parseReleaseTag(tag: string): semver.SemVer | undefined {
  if (!RELEASE.test(tag)) return undefined;
  return semverLib().parse(tag.replace(/^v/, '')) ?? undefined;
}

const HEAD_ARGS = ['rev-parse', '--is-shallow-repository', 'HEAD', '--short=7', 'HEAD'];
const TAG_ARGS = ['for-each-ref', '--merged=HEAD', '--format=%(objectname) %(*objectname) %(refname:strip=2)', 'refs/tags'];

/** GIT_TAG from git with two queries (HEAD, then every tag reachable from it), plus a count when HEAD is past a tag. */
export function resolveGitVersion(root: string, explicit?: { value: string; from: string; location?: Location }): GitVersion {
  if (explicit) return explicitVersion(explicit);
  const v = fromGit(root, gitOutput(root, HEAD_ARGS), gitOutput(root, TAG_ARGS));
  // Only an exact release can move aliases: only then is a third git query worth its 5 ms.
  if (v.source === 'exact') {
    const dirty = dirtyFiles(root);
    if (dirty) {
      v.dirty = dirty;
      v.notes.push(`the work tree has uncommitted changes (${dirty}): images tagged ${v.gitTag} will hold them, not the tagged commit`);
    }
  }
  return v;
}

/** Paths that go into images: manifests, layers' files, settings. */
const IMAGE_INPUTS = ['flavors', 'artifacts', ':(glob).dockerargs*'];

/** Uncommitted changes (untracked files included) under what goes into images, as "3 files, e.g. flavors/…", or undefined. */
export function dirtyFiles(root: string): string | undefined {
  const out = gitOutput(root, ['status', '--porcelain', '--untracked-files=normal', '--', ...IMAGE_INPUTS]);
  if (!out) return undefined;
  const files = out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^\s*\S{1,2}\s+/, '')); // (the output is trimmed: ' M a' arrives as 'M a')
  return `${files.length} file${files.length === 1 ? '' : 's'}, e.g. ${files[0]}`;
}

function explicitVersion(explicit: { value: string; from: string; location?: Location }): GitVersion {
  const problem = tagProblem(explicit.value);
  if (problem) {
    // from a file, the message starts with its file:line
    const from = explicit.location ? '' : ` (from ${explicit.from})`;
    throw new InputError(
      `GIT_TAG ${quoteShort(explicit.value)}${from} is not a valid Docker tag part: ${problem}`,
      explicit.location,
      `${TAG_RULE} (e.g. v1.2.3)`,
    );
  }
  const sv = parseReleaseTag(explicit.value);
  return { gitTag: explicit.value, source: 'explicit', ...(sv ? { semver: sv } : {}), notes: [] };
}

function fromGit(root: string, headOut: string | undefined, tagsOut: string | undefined): GitVersion {
  const head = headOut?.split('\n');
  if (head?.length !== 3) {
    return {
      gitTag: 'dev',
      source: 'no-git',
      notes: [`${root} is not a git checkout with commits: GIT_TAG is "dev" (pass --git-tag to choose)`],
    };
  }
  const [shallow, full, sha] = head as [string, string, string];
  const tags = (tagsOut ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [object, peeled, name] = line.split(' ') as [string, string, string];
      return { name, commit: peeled || object };
    });
  const notes: string[] = [];
  const pick = (names: string[]): { tag: string; v: semver.SemVer } | undefined => {
    const valid = names.flatMap((t) => {
      const v = parseReleaseTag(t);
      return v ? [{ tag: t, v }] : [];
    });
    const ignored = names.filter((t) => !parseReleaseTag(t));
    if (ignored.length) notes.push(`ignored non-semver tags: ${ignored.slice(0, 5).join(', ')}${ignored.length > 5 ? ', …' : ''}`);
    valid.sort((a, b) => semverLib().rcompare(a.v, b.v) || byCodeUnit(a.tag, b.tag));
    return valid[0];
  };
  const exact = pick(tags.filter((t) => t.commit === full).map((t) => t.name));
  if (exact) return { gitTag: exact.tag, source: 'exact', semver: exact.v, notes };
  notes.length = 0;
  const reachable = pick(tags.map((t) => t.name));
  if (reachable) {
    const n = gitOutput(root, ['rev-list', '--count', `refs/tags/${reachable.tag}..HEAD`]) ?? '0';
    return { gitTag: `${reachable.tag}-${n}-g${sha}`, source: 'described', notes };
  }
  if (shallow === 'true') {
    notes.push(
      'shallow clone without tags: GIT_TAG falls back to dev-<sha> (fetch tags with `git fetch --tags --unshallow`, or pass --git-tag)',
    );
  } else {
    notes.push('no semver tag reachable from HEAD: GIT_TAG is dev-<sha>');
  }
  return { gitTag: `dev-${sha}`, source: 'untagged', notes };
}
