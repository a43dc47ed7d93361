/**
 * The declared build args of a flavor before any settings file is applied: every key its layers and manifests read,
 * with the defaults they give (layers of the whole chain first, then the manifests from the root down).
 *
 * Built once per flavor of a loaded catalog from its parent's (memoized, keyed by the catalog's flavor map, which never
 * changes once loaded): resolving every flavor of a chain 5000 deep walked each flavor's whole lineage anew, quadratic
 * in the depth. Now each flavor costs what it adds plus a copy of the keys it reads (the size of its result).
 */
import { parentOf, type Catalog, type FlavorDef } from './model.js';
import type { Origin, Valued } from './layered.js';

export interface ArgState {
  key: string;
  /** null: no source gave a value. */
  value: string | null;
  origin: Origin;
  overridden: Valued[];
  consumers: string[];
}

/** One declaration a manifest makes: a default (or null, for `${KEY}` in from.image), and who reads it. */
interface Put {
  key: string;
  value: string | null;
  origin: Origin;
  consumer: string;
}

interface Memo {
  /** After the defaults of every layer of the chain. */
  layers: Map<string, Map<string, ArgState>>;
  /** The manifests' declarations along the chain, root first (shared with the parent when a flavor adds none). */
  manifests: Map<string, readonly Put[]>;
}

const memos = new WeakMap<Map<string, FlavorDef>, Memo>();

function memoOf(catalog: Pick<Catalog, 'flavors'>): Memo {
  let m = memos.get(catalog.flavors);
  if (!m) memos.set(catalog.flavors, (m = { layers: new Map(), manifests: new Map() }));
  return m;
}

/** Applies one declaration, as resolution always has: a later null never erases an earlier default. */
export function put(state: Map<string, ArgState>, key: string, value: string | null, origin: Origin, consumer?: string): void {
  const cur = state.get(key);
  if (!cur) {
    state.set(key, { key, value, origin, overridden: [], consumers: consumer ? [consumer] : [] });
    return;
  }
  if (consumer && !cur.consumers.includes(consumer)) cur.consumers.push(consumer);
  if (value === null) return;
  if (cur.value !== null) cur.overridden.push({ value: cur.value, origin: cur.origin });
  cur.value = value;
  cur.origin = origin;
}

function copyState(state: Map<string, ArgState>): Map<string, ArgState> {
  const out = new Map<string, ArgState>();
  for (const [k, a] of state) out.set(k, { ...a, overridden: a.overridden.slice(), consumers: a.consumers.slice() });
  return out;
}

/** The chain from `id` up to (not including) the nearest ancestor whose entry is already in `known`, nearest first. */
function unknownChain(catalog: Pick<Catalog, 'flavors'>, id: string, known: Map<string, unknown>): FlavorDef[] {
  const chain: FlavorDef[] = [];
  for (let f: FlavorDef | undefined = catalog.flavors.get(id); f && !known.has(f.id); ) {
    chain.push(f);
    const p = parentOf(f);
    f = p ? catalog.flavors.get(p) : undefined;
  }
  return chain;
}

/**
 * A fresh copy (the caller may change it) of the declared args of `id`. `layerPuts` and `manifestPuts` give the
 * declarations of one layer / one manifest (they carry the origins with their lazily computed lines).
 */
export function declaredArgs(
  catalog: Pick<Catalog, 'flavors' | 'layers'>,
  id: string,
  layerPuts: (layerName: string) => Put[],
  manifestPuts: (f: FlavorDef) => Put[],
): Map<string, ArgState> {
  const memo = memoOf(catalog);
  // iterative, top-down from the nearest known ancestor: any depth, each flavor computed once
  const pending = unknownChain(catalog, id, memo.layers);
  for (let i = pending.length - 1; i >= 0; i--) {
    const f = pending[i]!;
    const p = parentOf(f);
    const parentState = p ? memo.layers.get(p) : undefined;
    const own = f.layers.flatMap(layerPuts);
    let state = parentState ?? new Map<string, ArgState>();
    if (own.length) {
      state = parentState ? copyState(parentState) : state;
      for (const x of own) put(state, x.key, x.value, x.origin, x.consumer);
    }
    memo.layers.set(f.id, state);
  }
  const pendingManifests = unknownChain(catalog, id, memo.manifests);
  for (let i = pendingManifests.length - 1; i >= 0; i--) {
    const f = pendingManifests[i]!;
    const p = parentOf(f);
    const inherited = (p ? memo.manifests.get(p) : undefined) ?? [];
    const own = manifestPuts(f);
    memo.manifests.set(f.id, own.length ? [...inherited, ...own] : inherited);
  }
  const out = copyState(memo.layers.get(id) ?? new Map());
  for (const x of memo.manifests.get(id) ?? []) put(out, x.key, x.value, x.origin, x.consumer);
  return out;
}
