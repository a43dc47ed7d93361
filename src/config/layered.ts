/**
 * Layered lookup: a value comes from several sources of rising precedence, and the last one that gives it wins.
 * Every value keeps its origin (file and line, variable, flag), so messages and `idekube config` can say where it
 * came from and what it replaced. The ladders themselves (which sources, in which order) are sources.ts's.
 */
import type { ArgEntry } from './dockerargs.js';

export type Origin =
  | { kind: 'default'; what: string }
  | { kind: 'layer'; layer: string; file: string; line?: number }
  | { kind: 'flavor'; file: string; line?: number }
  | { kind: 'file'; file: string; line: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; flag: string };

export function describeOrigin(o: Origin): string {
  switch (o.kind) {
    case 'default':
      return `default (${o.what})`;
    case 'layer':
      return `${o.file}${o.line ? `:${o.line}` : ''} (layer ${o.layer})`;
    case 'flavor':
      return `${o.file}${o.line ? `:${o.line}` : ''}`;
    case 'file':
      return `${o.file}:${o.line}`;
    case 'env':
      return `env ${o.name}`;
    case 'flag':
      return `flag ${o.flag}`;
  }
}

export interface Valued {
  value: string;
  origin: Origin;
}

/** A value some source gives for a key. */
export interface Candidate extends Valued {
  key: string;
}

/** A key's winning value, with the values it replaced (lowest first). */
export interface Found extends Candidate {
  overridden: Valued[];
}

/** The entries of a KEY=VALUE file as candidates, each from its file and line. */
export function fileCandidates(entries: readonly ArgEntry[]): Candidate[] {
  return entries.map((e) => ({ key: e.key, value: e.value, origin: { kind: 'file', file: e.file, line: e.line } }));
}

/** What wins for `key` among candidates given lowest precedence first: the last to give it. */
export function lookupLayered(candidates: Iterable<Candidate>, key: string): Found | undefined {
  let found: Found | undefined;
  for (const c of candidates) {
    if (c.key !== key) continue;
    found = {
      key,
      value: c.value,
      origin: c.origin,
      overridden: found ? [...found.overridden, { value: found.value, origin: found.origin }] : [],
    };
  }
  return found;
}
