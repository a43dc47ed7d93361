/** Narrowing for values read from outside (JSON files, API answers, thrown errors), in place of casts. */

/** An object whose keys can be read (arrays too); null is not. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** A property of a value of unknown shape, or undefined. */
export function prop(v: unknown, key: string): unknown {
  return isRecord(v) ? v[key] : undefined;
}

/** `v` is one of the literals in `list` (a `const` tuple). */
export function isOneOf<T extends string>(list: readonly T[], v: string): v is T {
  return list.some((x) => x === v);
}

/** The value of a key the caller has checked is there: its absence is a bug in idekube, not bad input. */
export function known<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const v = map.get(key);
  if (v === undefined) throw new Error(`internal: no entry for ${String(key)}`);
  return v;
}
