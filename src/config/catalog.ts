/**
 * Discover flavors and layers under flavors/, validate each file against its schema, then validate the graph:
 * unknown parents and layers, cycles, platforms, layer order. All errors of one pass are reported together.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, throwCollected } from './errors.js';
import { parentOf, type Catalog, type FlavorDef, type LayerDef, type Platform, type Service } from './model.js';
import { PLATFORMS, flavorSchema, layerSchema } from './schema.js';
import { fingerprint, readCached, writeCached } from './catalog-cache.js';
import { validateAgainst } from './validate.js';
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
  if (cached) return cached;
  const errors: InputError[] = [];
  const layers = new Map<string, LayerDef>();
  const flavors = new Map<string, FlavorDef>();
  collect(errors, () => loadLayers(root, layers, errors));
  collect(errors, () => loadFlavors(root, flavors, errors));
  throwCollected(errors);
  const order = checkGraph(flavors, layers, errors);
  throwCollected(errors);
  const catalog = { root, flavors, layers, order };
  writeCached(root, fp, catalog);
  return catalog;
}

function collect(errors: InputError[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) errors.push(...('errors' in e ? (e as { errors: InputError[] }).errors : [e]));
    else throw e;
  }
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function loadLayers(root: string, out: Map<string, LayerDef>, errors: InputError[]): void {
  for (const entry of listDir(join(root, LAYERS_DIR))) {
    if (!entry.endsWith('.yaml') && !entry.endsWith('.yml')) continue;
    const name = entry.replace(/\.ya?ml$/, '');
    const file = `${LAYERS_DIR}/${entry}`;
    if (!NAME.test(name)) {
      errors.push(new InputError(`invalid layer file name ${JSON.stringify(entry)}`, { file }, 'layer names are lower-case letters, digits and -'));
      continue;
    }
    collect(errors, () => {
      const yaml = loadYamlFile(join(root, file), file);
      validateAgainst(layerSchema, yaml, 'a layer');
      out.set(name, toLayer(root, name, file, yaml, errors));
    });
  }
}

function toLayer(root: string, name: string, file: string, yaml: YamlFile, errors: InputError[]): LayerDef {
  const d = yaml.data as Record<string, any>;
  const artifactsDir = `artifacts/layers/${name}`;
  if (d.run !== undefined && !existsSync(join(root, artifactsDir, d.run))) {
    errors.push(new InputError(`script ${artifactsDir}/${d.run} does not exist`, yaml.locate(['run']), `create it, or fix run: in ${file}`));
  }
  for (const [i, c] of ((d.copy ?? []) as Array<{ src: string }>).entries()) {
    if (!existsSync(join(root, artifactsDir, c.src))) {
      errors.push(new InputError(`copy source ${artifactsDir}/${c.src} does not exist`, yaml.locate(['copy', i, 'src']), 'create it, or fix the path (relative to the layer folder)'));
    }
  }
  const services: Service[] = Object.entries((d.services ?? {}) as Record<string, any>).map(([sname, s]) => ({
    name: sname,
    layer: name,
    ...(s.description ? { description: s.description } : {}),
    routes: s.routes ?? [],
    programs: stringifyPrograms(s.programs ?? {}),
    ...(s.check ? { check: s.check } : {}),
  }));
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
    after: d.after ?? [],
    requires: d.requires ?? [],
    last: d.last === true,
    yaml,
  };
}

function loadFlavors(root: string, out: Map<string, FlavorDef>, errors: InputError[]): void {
  for (const flavor of listDir(join(root, FLAVORS_DIR))) {
    const flavorDir = join(root, FLAVORS_DIR, flavor);
    if (flavor === 'layers' || !statSync(flavorDir).isDirectory()) continue;
    for (const variant of listDir(flavorDir)) {
      const dir = `${FLAVORS_DIR}/${flavor}/${variant}`;
      if (!statSync(join(root, dir)).isDirectory()) continue;
      const fileName = ['flavor.yaml', 'flavor.yml'].find((f) => existsSync(join(root, dir, f)));
      if (!fileName) continue;
      const file = `${dir}/${fileName}`;
      if (!NAME.test(flavor) || !NAME.test(variant)) {
        errors.push(new InputError(`invalid flavor folder ${JSON.stringify(`${flavor}/${variant}`)}`, { file }, 'folder names are lower-case letters, digits and - (they become part of image tags)'));
        continue;
      }
      collect(errors, () => {
        const yaml = loadYamlFile(join(root, file), file);
        validateAgainst(flavorSchema, yaml, 'a flavor manifest');
        const d = yaml.data as Record<string, any>;
        const argsFile = existsSync(join(root, dir, '.dockerargs')) ? `${dir}/.dockerargs` : undefined;
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

/** Graph checks; returns the topological order (parents first, ties by id). */
function checkGraph(flavors: Map<string, FlavorDef>, layers: Map<string, LayerDef>, errors: InputError[]): string[] {
  const known = [...flavors.keys()].sort();
  for (const f of flavors.values()) {
    const p = parentOf(f);
    if (p !== undefined && !flavors.has(p)) {
      errors.push(new InputError(`unknown parent flavor ${JSON.stringify(p)}`, f.yaml.locate(['from', 'parent']), `use one of: ${known.join(', ')}`));
    }
    f.layers.forEach((l, i) => {
      if (!layers.has(l)) {
        errors.push(new InputError(`unknown layer ${JSON.stringify(l)}`, f.yaml.locate(['layers', i]), `create ${LAYERS_DIR}/${l}.yaml, or use one of: ${[...layers.keys()].sort().join(', ')}`));
      }
    });
  }
  for (const l of layers.values()) {
    for (const key of ['after', 'requires'] as const) {
      l[key].forEach((dep, i) => {
        if (!layers.has(dep)) errors.push(new InputError(`unknown layer ${JSON.stringify(dep)}`, l.yaml.locate([key, i]), `create ${LAYERS_DIR}/${dep}.yaml, or remove it`));
      });
    }
  }
  if (errors.length) return [];
  const order = topoOrder(flavors, errors);
  if (errors.length) return [];
  for (const id of order) checkFlavor(flavors.get(id)!, flavors, layers, errors);
  return order;
}

function topoOrder(flavors: Map<string, FlavorDef>, errors: InputError[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, stack: string[]): void => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      const key = [...cycle].sort().join();
      if (!reported.has(key)) {
        reported.add(key);
        const f = flavors.get(id)!;
        errors.push(new InputError(`dependency cycle: ${cycle.join(' → ')}`, f.yaml.locate(['from', 'parent']), 'a flavor cannot (indirectly) be its own parent; point one of them at an image'));
      }
      return;
    }
    state.set(id, 'visiting');
    const p = parentOf(flavors.get(id)!);
    if (p !== undefined) visit(p, [...stack, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...flavors.keys()].sort()) visit(id, []);
  return order;
}

/** Platforms a flavor builds for: declared, else its parent's, else all. */
export function platformsOf(catalog: Pick<Catalog, 'flavors'>, id: string): Platform[] {
  const f = catalog.flavors.get(id)!;
  if (f.declaredPlatforms) return f.declaredPlatforms;
  const p = parentOf(f);
  return p ? platformsOf(catalog, p) : [...PLATFORMS];
}

/** The chain from the root flavor down to `id`. */
export function lineage(catalog: Pick<Catalog, 'flavors'>, id: string): FlavorDef[] {
  const chain: FlavorDef[] = [];
  for (let f: FlavorDef | undefined = catalog.flavors.get(id); f; ) {
    chain.unshift(f);
    const p = parentOf(f);
    f = p ? catalog.flavors.get(p) : undefined;
  }
  return chain;
}

/** Every layer in the image, inherited ones first. */
export function allLayers(catalog: Catalog, id: string): LayerDef[] {
  return lineage(catalog, id).flatMap((f) => f.layers.map((l) => catalog.layers.get(l)!));
}

export function servicesOf(catalog: Catalog, id: string): Service[] {
  return allLayers(catalog, id).flatMap((l) => l.services);
}

function checkFlavor(f: FlavorDef, flavors: Map<string, FlavorDef>, layers: Map<string, LayerDef>, errors: InputError[]): void {
  const catalog = { flavors };
  const p = parentOf(f);
  const platforms = platformsOf(catalog, f.id);
  if (p && f.declaredPlatforms) {
    const parentPlatforms = platformsOf(catalog, p);
    f.declaredPlatforms.forEach((pl, i) => {
      if (!parentPlatforms.includes(pl)) {
        errors.push(new InputError(`platform ${pl} is not built by the parent ${p} (it builds ${parentPlatforms.join(', ')})`, f.yaml.locate(['platforms', i]), `remove ${pl}, or add it to ${flavors.get(p)!.file}`));
      }
    });
  }
  const inherited = p ? lineage(catalog, p).flatMap((x) => x.layers) : [];
  const sequence = [...inherited];
  f.layers.forEach((name, i) => {
    const layer = layers.get(name)!;
    const at = f.yaml.locate(['layers', i]);
    if (inherited.includes(name)) {
      errors.push(new InputError(`layer ${name} is already installed by the parent ${p}`, at, `remove ${name} from this flavor`));
    }
    if (layer.platforms) {
      const missing = platforms.filter((pl) => !layer.platforms!.includes(pl));
      if (missing.length) {
        errors.push(new InputError(`layer ${name} does not support ${missing.join(', ')} (it supports ${layer.platforms.join(', ')})`, at, `set platforms: [${layer.platforms.join(', ')}] in this manifest, or drop the layer`));
      }
    }
    for (const req of layer.requires) {
      if (!sequence.includes(req)) {
        errors.push(new InputError(`layer ${name} requires layer ${req} before it`, at, `add ${req} before ${name} (here or in a parent)`));
      }
    }
    for (const dep of layer.after) {
      const later = f.layers.indexOf(dep);
      if (later > i) errors.push(new InputError(`layer ${name} must come after ${dep}`, at, `move ${name} below ${dep}`));
    }
    sequence.push(name);
  });
  const lastSeen = f.layers.findIndex((n) => layers.get(n)!.last);
  if (lastSeen >= 0) {
    f.layers.slice(lastSeen).forEach((n, k) => {
      if (!layers.get(n)!.last) {
        errors.push(new InputError(`layer ${n} comes after ${f.layers[lastSeen]}, which must be last`, f.yaml.locate(['layers', lastSeen + k]), `move ${n} above ${f.layers[lastSeen]}`));
      }
    });
  }
}

function stringifyArgs(m: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries((m ?? {}) as Record<string, unknown>)) out[k] = v === null ? null : String(v);
  return out;
}

function stringifyMap(m: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((m ?? {}) as Record<string, unknown>)) out[k] = String(v);
  return out;
}

function stringifyPrograms(m: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(m)) out[k] = v.environment ? { ...v, environment: stringifyMap(v.environment) } : v;
  return out;
}

