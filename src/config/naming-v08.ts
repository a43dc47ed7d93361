/** The v0.8 names derived from the catalog, checked once per project (tags-v08.ts has the grammar). */
import { InputError } from './errors.js';
import { TAG_RULE, isPathComponent, tagProblem } from './image-ref.js';
import type { ImageNaming } from './tags.js';
import { cacheTagV08, parts, repositoryV08, tagV08 } from './tags-v08.js';

const PATH_RULE = 'lower-case letters and digits, with single . _ __ or - between them';

/**
 * Checks the names v0.8 derives from the catalog, once for the whole catalog: every group makes a valid
 * repository (`<NAME>-<group>-base`, at most 255 characters) and the longest variant a valid tag (128).
 * Undefined when all is well; otherwise the error, against the flavor folder at fault.
 */
export function v08NamingProblem(n: ImageNaming, flavors: Iterable<{ id: string; file: string }>): InputError | undefined {
  const lastName = n.name.split('/').pop()!;
  let longestGroup: { id: string; file: string } | undefined;
  let longestVariant: { id: string; file: string } | undefined;
  for (const f of flavors) {
    const { group, variant } = parts(f.id);
    if (!isPathComponent(`${lastName}-${group}`)) {
      return new InputError(
        `the flavor folder ${JSON.stringify(group)} cannot name a repository in tag scheme v0.8 (${lastName}-${group}): ${PATH_RULE}`,
        { file: f.file },
        'rename the folder so it ends in a letter or digit, or use --scheme v0.4',
      );
    }
    if (!longestGroup || group.length > parts(longestGroup.id).group.length) longestGroup = f;
    if (!longestVariant || variant.length > parts(longestVariant.id).variant.length) longestVariant = f;
  }
  if (longestGroup) {
    const repo = repositoryV08(`${parts(longestGroup.id).group}/base`, n);
    if (repo.length > 255)
      return new InputError(
        `tag scheme v0.8 makes the repository ${repo.slice(0, 60)}… ${repo.length} characters; a repository name is at most 255`,
        { file: longestGroup.file },
        'shorten REGISTRY, AUTHOR, NAME or the flavor folder name',
      );
  }
  if (longestVariant) {
    const tag = tagV08(longestVariant.id, n, { arch: 'amd64', qemu: true });
    const cache = cacheTagV08(longestVariant.id, n, 'amd64');
    for (const t of [tag, cache]) {
      const problem = tagProblem(t);
      if (problem)
        return new InputError(
          `tag scheme v0.8 makes the tag ${JSON.stringify(t.slice(0, 60))} of ${longestVariant.id} invalid: ${problem}`,
          { file: longestVariant.file },
          `${TAG_RULE}: shorten GIT_TAG, TAG_POSTFIX or the variant folder name`,
        );
    }
  }
  return undefined;
}
