/**
 * Several lineups make one plan: their images side by side (the same flavor once per lineup, each with its own
 * profile's args, tags and platforms), so one build, one bake file and one CI job carry them all.
 */
import { InputError } from '../config/errors.js';
import { PLATFORMS } from '../config/platform.js';
import { imageId, type Plan } from './types.js';

export function mergePlans(plans: Plan[]): Plan {
  if (plans.length === 1) return plans[0]!;
  const first = plans[0]!;
  // two lineups must never write the same reference (one would overwrite the other's list)
  const owner = new Map<string, string>();
  for (const image of plans.flatMap((p) => p.images)) {
    for (const ref of [image.ref, ...image.aliases]) {
      const other = owner.get(ref);
      if (other) {
        throw new InputError(
          `${other} and ${imageId(image)} would both be pushed as ${ref}`,
          undefined,
          "give each lineup's profile its own TAG_POSTFIX (e.g. TAG_POSTFIX=-ascend in .dockerargs.ascend)",
        );
      }
      owner.set(ref, imageId(image));
    }
  }
  // a note every lineup made (the version's) once; the others say which lineup they are about
  const common = first.notes.filter((n) => plans.every((p) => p.notes.includes(n)));
  const notes = [...common];
  for (const p of plans) for (const n of p.notes) if (!common.includes(n)) notes.push(`lineup ${p.lineups?.[0]?.name ?? '?'}: ${n}`);
  const platforms = new Set(plans.flatMap((p) => p.platforms));
  return {
    ...first,
    profile: null,
    lineups: plans.flatMap((p) => p.lineups ?? []),
    platforms: PLATFORMS.filter((p) => platforms.has(p)),
    images: plans.flatMap((p) => p.images),
    targets: plans.flatMap((p) => p.targets),
    notes,
  };
}
