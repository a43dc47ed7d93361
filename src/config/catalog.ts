/**
 * Discover flavors and layers under flavors/, validate each file against its schema, then validate the graph:
 * unknown parents and layers, cycles, platforms, layer order. All errors of one pass are reported together.
 */
import { existsSync, lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError, addErrors, listSome, throwCollected } from './errors.js';
import { known } from './guards.js';
import type { FlavorManifest, LayerManifest, ManifestScalar, ProgramManifest } from './manifest-types.js';
import { parentOf, type Catalog, type FlavorDef, type LayerDef, type Platform, type Program, type Service } from './model.js';
import { PLATFORMS } from './platform.js';
import { flavorSchema, layerSchema } from './schema.js';
import { fingerprint, readCached, writeCached } from './catalog-cache.js';
import { slug } from './image-ref.js';
import { argRefs } from './resolve.js';
import { validateAgainst } from './validate.js';
import { closest, editDistance, warn } from './warnings.js';
import { loadYamlFile, type YamlFile } from './yamlfile.js';

export const FLAVORS_DIR = 'flavors';
export const LAYERS_DIR = 'flavors/layers';
const NAME = /^[a-z0-9][a-z0-9-]*$/;

export function loadCatalog(root: string): Catalog {
  const flavorsDir = join(root, FLAVORS_DIR);
  if (!existsSync(flavorsDir)) {
    throw new InputError(`no ${FLAVORS_DIR}/ folder in ${root}`, { file: root }, 'run idekube in a project root, or pass -C <dir>');
  }
  const fp = fingerprint(root);
  const cached = readCached(root, fp);
  if (cached) {
    // a cache written before this check existed may hold a catalog it refuses (it costs one pass over the ids)
    const errors: InputError[] = [];
    checkTagCollisions(cached.flavors, errors);
    throwCollected(errors);
    return cached;
  }
  const errors: InputError[] = [];
  const layers = new Map<string, LayerDef>();
  const flavors = new Map<string, FlavorDef>();
  let warnings = 0;
  const warnHere = (message: string, file: string, fix: string) => {
    warnings++;
    warn(message, { file }, fix);
  };
  collect(errors, () => loadLayers(root, layers, errors));
  collect(errors, () => loadFlavors(root, flavors, errors, warnHere));
  throwCollected(errors);
  const order = checkGraph(flavors, layers, errors);
  throwCollected(errors);
  const catalog = { root, flavors, layers, order };
  // with warnings, no cache: the next run loads again, and warns again
  if (!warnings) writeCached(root, fp, catalog);
  return catalog;
}

function collect(errors: InputError[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) addErrors(errors, e);
    else throw e;
  }
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** stat that follows links, or undefined (a dangling link, a race): what is not there is not a flavor. */
function statOr(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

const MANIFEST_NAMES = ['flavor.yaml', 'flavor.yml'];

/** `flavour.yaml`, `Flavor.yaml`, `flavors.yml`, `FLAVOR.YML`…: a file meant as a manifest, never read. */
function looksLikeManifest(name: string): boolean {
  const m = /^(.*)\.ya?ml$/i.exec(name);
  if (!m || MANIFEST_NAMES.includes(name)) return false;
  return editDistance(m[1]!.toLowerCase(), 'flavor', 2) <= 2;
}

function loadLayers(root: string, out: Map<string, LayerDef>, errors: InputError[]): void {
  for (const entry of listDir(join(root, LAYERS_DIR))) {
    if (!entry.endsWith('.yaml') && !entry.endsWith('.yml')) continue;
    const name = entry.replace(/\.ya?ml$/, '');
    const file = `${LAYERS_DIR}/${entry}`;
    if (!NAME.test(name)) {
      errors.push(
        new InputError(`invalid layer file name ${JSON.stringify(entry)}`, { file }, 'layer names are lower-case letters, digits and -'),
      );
      continue;
    }
    collect(errors, () => {
      const yaml = loadYamlFile(join(root, file), file);
      const manifest = validateAgainst<LayerManifest>(layerSchema, yaml, 'a layer');
      out.set(name, toLayer(root, name, file, manifest, yaml, errors));
    });
  }
}

function toLayer(root: string, name: string, file: string, d: LayerManifest, yaml: YamlFile, errors: InputError[]): LayerDef {
  const artifactsDir = `artifacts/layers/${name}`;
  if (d.run !== undefined && !existsSync(join(root, artifactsDir, d.run))) {
    errors.push(
      new InputError(`script ${artifactsDir}/${d.run} does not exist`, yaml.locate(['run']), `create it, or fix run: in ${file}`),
    );
  }
  for (const [i, c] of (d.copy ?? []).entries()) {
    if (!existsSync(join(root, artifactsDir, c.src))) {
      errors.push(
        new InputError(
          `copy source ${artifactsDir}/${c.src} does not exist`,
          yaml.locate(['copy', i, 'src']),
          'create it, or fix the path (relative to the layer folder)',
        ),
      );
    }
  }
  const services: Service[] = Object.entries(d.services ?? {}).map(([sname, s]) => ({
    name: sname,
    layer: name,
    ...(s.description ? { description: s.description } : {}),
    routes: s.routes ?? [],
    programs: stringifyPrograms(s.programs ?? {}),
    ...(s.check ? { check: s.check } : {}),
    ...(s.main === true ? { main: true } : {}),
  }));
  const commands = Object.entries(d.commands ?? {}).map(([cname, c]) => {
    for (const k of ['run', 'expect'] as const) {
      // resolved with this layer's args, as its build step saw them
      const unknown = argRefs(c[k] ?? '').filter((a) => !(a in (d.args ?? {})));
      if (unknown.length)
        errors.push(
          new InputError(
            `commands.${cname}.${k} uses \${${unknown[0]}}, which this layer does not declare in args:`,
            yaml.locate(['commands', cname, k]),
            `declare ${unknown[0]} under args: of ${file}, or write the value out`,
          ),
        );
    }
    return { name: cname, layer: name, run: c.run, ...(c.expect !== undefined ? { expect: c.expect } : {}) };
  });
  return {
    name,
    file,
    artifactsDir,
    ...(d.description ? { description: d.description } : {}),
    ...(d.run ? { run: d.run } : {}),
    copy: d.copy ?? [],
    ...(d.copyFrom ? { copyFrom: d.copyFrom } : {}),
    args: stringifyArgs(d.args),
    env: stringifyMap(d.env),
    ...(d.platforms ? { platforms: d.platforms } : {}),
    services,
    commands,
    after: d.after ?? [],
    requires: d.requires ?? [],
    last: d.last === true,
    yaml,
  };
}

type WarnAt = (message: string, file: string, fix: string) => void;

function loadFlavors(root: string, out: Map<string, FlavorDef>, errors: InputError[], warnAt: WarnAt): void {
  for (const flavor of listDir(join(root, FLAVORS_DIR))) {
    const flavorDir = join(root, FLAVORS_DIR, flavor);
    if (flavor === 'layers' || !statOr(flavorDir)?.isDirectory()) continue;
    for (const variant of listDir(flavorDir)) {
      const dir = `${FLAVORS_DIR}/${flavor}/${variant}`;
      const st = statOr(join(root, dir));
      if (!st?.isDirectory()) {
        // flavors/<flavor>/flavor.yaml: one level short, so it names no flavor
        if (st?.isFile() && (MANIFEST_NAMES.includes(variant) || looksLikeManifest(variant))) {
          warnAt(
            `${variant} is not read: a manifest is flavors/<flavor>/<variant>/flavor.yaml, one folder deeper`,
            dir,
            `move it to ${FLAVORS_DIR}/${flavor}/<variant>/flavor.yaml (e.g. ${FLAVORS_DIR}/${flavor}/base/flavor.yaml)`,
          );
        }
        continue;
      }
      const fileName = MANIFEST_NAMES.find((f) => existsSync(join(root, dir, f)));
      if (!fileName) {
        const near = listDir(join(root, dir)).find((f) => looksLikeManifest(f) && statOr(join(root, dir, f))?.isFile());
        if (near) {
          warnAt(
            `${near} is not read, so there is no flavor ${flavor}/${variant} (did you mean flavor.yaml?)`,
            `${dir}/${near}`,
            `rename it to ${dir}/flavor.yaml`,
          );
        }
        continue;
      }
      const file = `${dir}/${fileName}`;
      if (!NAME.test(flavor) || !NAME.test(variant)) {
        errors.push(
          new InputError(
            `invalid flavor folder ${JSON.stringify(`${flavor}/${variant}`)}`,
            { file },
            'folder names are lower-case letters, digits and - (they become part of image tags)',
          ),
        );
        continue;
      }
      collect(errors, () => {
        const yaml = loadYamlFile(join(root, file), file);
        const d = validateAgainst<FlavorManifest>(flavorSchema, yaml, 'a flavor manifest');
        // lstat: a dangling link is kept, so that reading it says what is wrong instead of ignoring it
        const argsFile = present(join(root, dir, '.dockerargs')) ? `${dir}/.dockerargs` : undefined;
        out.set(`${flavor}/${variant}`, {
          id: `${flavor}/${variant}`,
          flavor,
          variant,
          file,
          dir,
          ...(d.description ? { description: d.description } : {}),
          from: d.from,
          ...(d.platforms ? { declaredPlatforms: d.platforms } : {}),
          layers: d.layers ?? [],
          args: stringifyArgs(d.args),
          env: stringifyMap(d.env),
          labels: d.labels ?? {},
          ...(argsFile ? { argsFile } : {}),
          yaml,
        });
      });
    }
  }
}

function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Image tags join the two folder names with `-`: coder/lite-x and coder-lite/x would both be tagged
 * coder-lite-x-<GIT_TAG>…, each push overwriting the other. Refused, naming both manifests.
 */
function checkTagCollisions(flavors: Map<string, FlavorDef>, errors: InputError[]): void {
  const byTag = new Map<string, FlavorDef>();
  for (const id of [...flavors.keys()].sort()) {
    const f = known(flavors, id);
    const tag = slug(id);
    const other = byTag.get(tag);
    if (!other) {
      byTag.set(tag, f);
      continue;
    }
    errors.push(
      new InputError(
        `flavor ${id} gets the same image tags as ${other.id} (${other.file}): both are tagged ${tag}-<GIT_TAG>…, and one would overwrite the other`,
        { file: f.file },
        `rename the folder of one of them (${f.dir} or ${other.dir}); tags join flavor and variant with -`,
      ),
    );
  }
}

/** Graph checks; returns the topological order (parents first, ties by id). */
function checkGraph(flavors: Map<string, FlavorDef>, layers: Map<string, LayerDef>, errors: InputError[]): string[] {
  let known: string[] | undefined;
  let layerNames: string[] | undefined;
  for (const f of flavors.values()) {
    const p = parentOf(f);
    if (p !== undefined && !flavors.has(p)) {
      known ??= [...flavors.keys()].sort();
      const near = closest(p, known);
      errors.push(
        new InputError(
          `unknown parent flavor ${JSON.stringify(p)}`,
          f.yaml.locate(['from', 'parent']),
          `${near ? `did you mean ${near}? ` : ''}use one of: ${listSome(known)}`,
        ),
      );
    }
    f.layers.forEach((l, i) => {
      if (!layers.has(l)) {
        layerNames ??= [...layers.keys()].sort();
        errors.push(
          new InputError(
            `unknown layer ${JSON.stringify(l)}`,
            f.yaml.locate(['layers', i]),
            `create ${LAYERS_DIR}/${l}.yaml, or use one of: ${listSome(layerNames, 40)}`,
          ),
        );
      }
    });
  }
  checkTagCollisions(flavors, errors);
  for (const l of layers.values()) {
    for (const key of ['after', 'requires'] as const) {
      l[key].forEach((dep, i) => {
        if (!layers.has(dep))
          errors.push(
            new InputError(
              `unknown layer ${JSON.stringify(dep)}`,
              l.yaml.locate([key, i]),
              `create ${LAYERS_DIR}/${dep}.yaml, or remove it`,
            ),
          );
      });
    }
  }
  if (errors.length) return [];
  const order = topoOrder(flavors, errors);
  if (errors.length) return [];
  checkFlavors(order, flavors, layers, errors);
  return order;
}

/**
 * Parents before children, ties by id (each id in sorted order, after its not yet placed ancestors). Iterative and
 * linear: a chain 5000 deep neither overflows the stack nor copies the path at each step.
 */
function topoOrder(flavors: Map<string, FlavorDef>, errors: InputError[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  for (const start of [...flavors.keys()].sort()) {
    if (state.has(start)) continue;
    // walk up to the first placed ancestor (or the root), then place the path top-down
    const path: string[] = [];
    for (let id: string | undefined = start; id !== undefined; ) {
      const s = state.get(id);
      if (s === 'done') break;
      if (s === 'visiting') {
        const cycle = [...path.slice(path.indexOf(id)), id];
        const key = [...cycle].sort().join();
        if (!reported.has(key)) {
          reported.add(key);
          errors.push(
            new InputError(
              `dependency cycle: ${cycle.join(' → ')}`,
              known(flavors, id).yaml.locate(['from', 'parent']),
              'a flavor cannot (indirectly) be its own parent; point one of them at an image',
            ),
          );
        }
        break;
      }
      state.set(id, 'visiting');
      path.push(id);
      const f = flavors.get(id);
      id = f ? parentOf(f) : undefined;
    }
    for (let i = path.length - 1; i >= 0; i--) {
      state.set(path[i]!, 'done');
      order.push(path[i]!);
    }
  }
  return order;
}

/** Per catalog (keyed by its flavor map, which never changes once loaded): platforms and services of each id. */
interface Derived {
  platforms: Map<string, Platform[]>;
  services: Map<string, Service[]>;
}
const derivedOf = new WeakMap<Map<string, FlavorDef>, Derived>();

function derived(flavors: Map<string, FlavorDef>): Derived {
  let d = derivedOf.get(flavors);
  if (!d) derivedOf.set(flavors, (d = { platforms: new Map(), services: new Map() }));
  return d;
}

/** Platforms a flavor builds for: declared, else its parent's, else all. Memoized: O(1) once its parent's is known. */
export function platformsOf(catalog: Pick<Catalog, 'flavors'>, id: string): Platform[] {
  const memo = derived(catalog.flavors).platforms;
  const known = memo.get(id);
  if (known) return known;
  const below: string[] = [];
  let result: Platform[] | undefined;
  for (let cur: string | undefined = id; result === undefined; ) {
    const hit: Platform[] | undefined = cur === undefined ? undefined : memo.get(cur);
    const f: FlavorDef | undefined = cur === undefined ? undefined : catalog.flavors.get(cur);
    if (hit) result = hit;
    else if (!f) result = [...PLATFORMS];
    else if (f.declaredPlatforms) {
      result = f.declaredPlatforms;
      memo.set(f.id, result);
    } else {
      below.push(f.id);
      cur = parentOf(f);
      if (cur === undefined) result = [...PLATFORMS];
    }
  }
  for (const x of below) memo.set(x, result);
  return result;
}

/** The chain from the root flavor down to `id` (O(depth): pushed, then reversed once). */
export function lineage(catalog: Pick<Catalog, 'flavors'>, id: string): FlavorDef[] {
  const chain: FlavorDef[] = [];
  for (let f: FlavorDef | undefined = catalog.flavors.get(id); f; ) {
    chain.push(f);
    const p = parentOf(f);
    f = p ? catalog.flavors.get(p) : undefined;
  }
  return chain.reverse();
}

/** Every layer in the image, inherited ones first. */
export function allLayers(catalog: Catalog, id: string): LayerDef[] {
  const out: LayerDef[] = [];
  for (const f of lineage(catalog, id)) for (const l of f.layers) out.push(known(catalog.layers, l));
  return out;
}

/** Services of the image: its parent's, then its own layers'. Memoized per catalog (a flavor without services of its own shares its parent's list). */
export function servicesOf(catalog: Catalog, id: string): Service[] {
  const memo = derived(catalog.flavors).services;
  const known = memo.get(id);
  if (known) return known.slice();
  // fill from the nearest ancestor already known, top-down (iterative: any depth)
  const chain: FlavorDef[] = [];
  let base: Service[] = [];
  for (let f: FlavorDef | undefined = catalog.flavors.get(id); f; ) {
    const hit = memo.get(f.id);
    if (hit) {
      base = hit;
      break;
    }
    chain.push(f);
    const p = parentOf(f);
    f = p ? catalog.flavors.get(p) : undefined;
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const f = chain[i]!;
    const own = f.layers.flatMap((l) => catalog.layers.get(l)?.services ?? []);
    base = own.length ? [...base, ...own] : base;
    memo.set(f.id, base);
  }
  return base.slice();
}

/**
 * The per-flavor checks of every flavor in one depth-first walk of the forest, keeping the layers installed along the
 * current path in a map (added on the way down, removed on the way back): linear in the catalog, where computing each
 * flavor's inherited layers anew was quadratic in the depth (cubic with the copies). Errors come out in `order`.
 */
function checkFlavors(order: string[], flavors: Map<string, FlavorDef>, layers: Map<string, LayerDef>, errors: InputError[]): void {
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const id of order) {
    const p = parentOf(known(flavors, id));
    if (p === undefined) roots.push(id);
    else {
      let c = children.get(p);
      if (!c) children.set(p, (c = []));
      c.push(id);
    }
  }
  const found = new Map<string, InputError[]>();
  const onPath = new Set<string>();
  type Frame = { id: string; added: string[]; next: number };
  const enter = (id: string): Frame => {
    const f = known(flavors, id);
    const mine: InputError[] = [];
    checkFlavor(f, flavors, layers, onPath, mine);
    if (mine.length) found.set(id, mine);
    const added = f.layers.filter((l) => !onPath.has(l));
    for (const l of added) onPath.add(l);
    return { id, added, next: 0 };
  };
  for (const root of roots) {
    const stack: Frame[] = [enter(root)];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const kids = children.get(top.id) ?? [];
      if (top.next < kids.length) stack.push(enter(kids[top.next++]!));
      else {
        for (const l of top.added) onPath.delete(l);
        stack.pop();
      }
    }
  }
  for (const id of order) for (const e of found.get(id) ?? []) errors.push(e);
}

/** Checks of one flavor; `inherited` holds the layers its ancestors install. */
function checkFlavor(
  f: FlavorDef,
  flavors: Map<string, FlavorDef>,
  layers: Map<string, LayerDef>,
  inherited: ReadonlySet<string>,
  errors: InputError[],
): void {
  const catalog = { flavors };
  const p = parentOf(f);
  const platforms = platformsOf(catalog, f.id);
  if (p && f.declaredPlatforms) {
    const parentPlatforms = platformsOf(catalog, p);
    f.declaredPlatforms.forEach((pl, i) => {
      if (!parentPlatforms.includes(pl)) {
        errors.push(
          new InputError(
            `platform ${pl} is not built by the parent ${p} (it builds ${parentPlatforms.join(', ')})`,
            f.yaml.locate(['platforms', i]),
            `remove ${pl}, or add it to ${known(flavors, p).file}`,
          ),
        );
      }
    });
  }
  const ownSoFar = new Set<string>();
  f.layers.forEach((name, i) => {
    const layer = known(layers, name);
    const at = f.yaml.locate(['layers', i]);
    if (inherited.has(name)) {
      errors.push(new InputError(`layer ${name} is already installed by the parent ${p}`, at, `remove ${name} from this flavor`));
    }
    const supported = layer.platforms;
    if (supported) {
      const missing = platforms.filter((pl) => !supported.includes(pl));
      if (missing.length) {
        errors.push(
          new InputError(
            `layer ${name} does not support ${missing.join(', ')} (it supports ${supported.join(', ')})`,
            at,
            `set platforms: [${supported.join(', ')}] in this manifest, or drop the layer`,
          ),
        );
      }
    }
    for (const req of layer.requires) {
      if (!inherited.has(req) && !ownSoFar.has(req)) {
        errors.push(new InputError(`layer ${name} requires layer ${req} before it`, at, `add ${req} before ${name} (here or in a parent)`));
      }
    }
    for (const dep of layer.after) {
      const later = f.layers.indexOf(dep);
      if (later > i) errors.push(new InputError(`layer ${name} must come after ${dep}`, at, `move ${name} below ${dep}`));
    }
    ownSoFar.add(name);
  });
  const lastSeen = f.layers.findIndex((n) => known(layers, n).last);
  if (lastSeen >= 0) {
    f.layers.slice(lastSeen).forEach((n, k) => {
      if (!known(layers, n).last) {
        errors.push(
          new InputError(
            `layer ${n} comes after ${f.layers[lastSeen]}, which must be last`,
            f.yaml.locate(['layers', lastSeen + k]),
            `move ${n} above ${f.layers[lastSeen]}`,
          ),
        );
      }
    });
  }
}

function stringifyArgs(m: Record<string, ManifestScalar | null> = {}): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(m)) out[k] = v === null ? null : String(v);
  return out;
}

function stringifyMap(m: Record<string, ManifestScalar> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = String(v);
  return out;
}

function stringifyPrograms(m: Record<string, ProgramManifest>): Record<string, Program> {
  const out: Record<string, Program> = {};
  for (const [k, { environment, ...rest }] of Object.entries(m))
    out[k] = environment ? { ...rest, environment: stringifyMap(environment) } : rest;
  return out;
}
