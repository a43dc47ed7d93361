/** The build args of one flavor: only the keys its layers and manifests read, each with its winning origin. */
import { declaredArgs, put as putArg } from './arg-defaults.js';
import { InputError, throwCollected } from './errors.js';
import type { Catalog } from './model.js';
import { byCodeUnit } from './order.js';
import type { Origin, Valued } from './layered.js';
import { SETTING_KEYS, argCandidates, readArgsFile, type Layered } from './sources.js';

export interface ResolvedArg {
  key: string;
  /** null: no source gave a value (an error for builds; shown as such by `idekube config`). */
  value: string | null;
  origin: Origin;
  /** Lower-precedence values this one replaced, lowest first. */
  overridden: Valued[];
  /** Layers / manifests that read it. */
  consumers: string[];
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** `${NAME}` references inside a string (e.g. a base image `${BASE_IMAGE}`). */
export function argRefs(s: string): string[] {
  return [...s.matchAll(REF)].map((m) => (m[1] ?? m[2])!);
}

export function substitute(s: string, values: Record<string, string | null>): string {
  return s.replace(REF, (_, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? '');
}

export function resolveArgs(catalog: Catalog, layered: Layered, flavorId: string): ResolvedArg[] {
  const flavor = catalog.flavors.get(flavorId)!;
  // Consumed keys, with the defaults their declarers give (memoized per flavor: linear along a chain).
  const byKey = declaredArgs(
    catalog,
    flavorId,
    (name) => {
      const layer = catalog.layers.get(name)!;
      return Object.entries(layer.args).map(([k, v]) => ({
        key: k,
        value: v,
        origin: withLine({ kind: 'layer', layer: layer.name, file: layer.file }, () => layer.yaml.locate(['args', k], true).line),
        consumer: `layer ${layer.name}`,
      }));
    },
    (f) => [
      ...('image' in f.from
        ? argRefs(f.from.image).map((k) => ({
            key: k,
            value: null,
            origin: { kind: 'flavor', file: f.file } as Origin,
            consumer: `${f.id} from.image`,
          }))
        : []),
      ...Object.entries(f.args).map(([k, v]) => ({
        key: k,
        value: v,
        origin: withLine({ kind: 'flavor', file: f.file }, () => f.yaml.locate(['args', k], true).line) as Origin,
        consumer: f.id,
      })),
    ],
  );
  const put = (key: string, value: string | null, origin: Origin) => putArg(byKey, key, value, origin);
  const errors: InputError[] = [];
  const own = flavor.argsFile ? readArgsFile(catalog.root, flavor.argsFile) : [];
  for (const e of own) {
    if ((SETTING_KEYS as readonly string[]).includes(e.key)) {
      errors.push(
        new InputError(
          `${e.key} names the image and cannot be set per flavor`,
          { file: e.file, line: e.line },
          `set ${e.key} in the project's .dockerargs, a profile, the environment or a flag`,
        ),
      );
    }
  }
  throwCollected(errors);
  // only keys the flavor reads; each later source replaces the value, which keeps what it replaced
  for (const c of argCandidates(layered, own)) {
    if (byKey.has(c.key)) put(c.key, c.value, c.origin);
  }
  return [...byKey.values()].sort((a, b) => byCodeUnit(a.key, b.key));
}

/** Throws when a consumed arg has no value anywhere. */
export function requireValues(flavorId: string, args: ResolvedArg[]): Record<string, string> {
  const errors: InputError[] = [];
  const out: Record<string, string> = {};
  for (const a of args) {
    if (a.value === null) {
      errors.push(
        new InputError(
          `build arg ${a.key} of ${flavorId} has no value (read by ${a.consumers.join(', ')})`,
          undefined,
          `add ${a.key}=<value> to .dockerargs, or pass --set ${a.key}=<value>`,
        ),
      );
    } else out[a.key] = a.value;
  }
  throwCollected(errors);
  return out;
}

/** Adds a `line` that is looked up only when read (it may need the YAML parsed for positions). */
function withLine<T extends Origin>(origin: T, line: () => number | undefined): T {
  let cached: number | undefined | null = null;
  return Object.defineProperty(origin, 'line', {
    enumerable: true,
    get: () => (cached === null ? (cached = line()) : cached),
  });
}
