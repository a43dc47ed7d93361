/**
 * A validated catalog, cached as JSON under .idekube/cache/ and keyed by the size and mtime of every file under
 * flavors/ and artifacts/layers/ (plus the schema), so `list`, `tags` and `plan` skip YAML parsing and schema
 * validation when nothing changed. Any change, or any doubt, means a full load. Writing it is best effort.
 * The walk never follows a link: a link (or a socket, FIFO, device) under flavors/ or artifacts/layers/ is exit 2
 * naming it, before anything reads it; the cache file is read and written only where no component is a link.
 */
import { join } from 'node:path';
import { SafeTree, checkComponents, outputRefusal, sourceRefusal, walkFiles } from '../fs/boundary.js';
import type { Catalog, FlavorDef, LayerDef } from './model.js';
import { flavorSchema, layerSchema } from './schema.js';
import { lazyYamlFile } from './yamlfile.js';

const VERSION = 2;
const CACHE_FILE = '.idekube/cache/catalog.json';

type Stored<T> = Omit<T, 'yaml'> & { yamlData: unknown };

interface CacheFile {
  version: number;
  fingerprint: string;
  flavors: Array<Stored<FlavorDef>>;
  layers: Array<Stored<LayerDef>>;
  order: string[];
}

export function fingerprint(root: string): string {
  // A plain string, compared whole: hashing it would load node:crypto, which costs more than the comparison.
  const parts = [`${VERSION}`, JSON.stringify(flavorSchema), JSON.stringify(layerSchema)];
  const refuse = sourceRefusal(root);
  for (const rel of ['flavors', 'artifacts/layers']) {
    const abs = join(root, rel);
    checkComponents(root, abs, refuse); // artifacts/ itself a link would lead the walk out of the project
    for (const f of walkFiles(abs, refuse)) parts.push(`${rel}/${f.rel}\0${f.size}\0${f.mtimeMs}`);
  }
  return parts.join('\n');
}

export function readCached(root: string, fp: string): Catalog | undefined {
  try {
    const raw = cacheTree(root).read(CACHE_FILE);
    if (!raw) return undefined;
    // our own file, written below; a version or fingerprint that differs means it is not read further
    const c = JSON.parse(raw.toString('utf8')) as CacheFile;
    if (c.version !== VERSION || c.fingerprint !== fp) return undefined;
    const lazy = (file: string, data: unknown) => lazyYamlFile(join(root, file), file, data);
    return {
      root,
      flavors: new Map(c.flavors.map(({ yamlData, ...f }): [string, FlavorDef] => [f.id, { ...f, yaml: lazy(f.file, yamlData) }])),
      layers: new Map(c.layers.map(({ yamlData, ...l }): [string, LayerDef] => [l.name, { ...l, yaml: lazy(l.file, yamlData) }])),
      order: c.order,
    };
  } catch {
    return undefined;
  }
}

export function writeCached(root: string, fp: string, catalog: Catalog): void {
  const strip = <T extends { yaml: { data: unknown } }>(x: T): Stored<T> => {
    const { yaml, ...rest } = x;
    return { ...rest, yamlData: yaml.data };
  };
  const data: CacheFile = {
    version: VERSION,
    fingerprint: fp,
    flavors: [...catalog.flavors.values()].map(strip),
    layers: [...catalog.layers.values()].map(strip),
    order: catalog.order,
  };
  try {
    const tree = cacheTree(root);
    tree.mkdirs(CACHE_FILE.slice(0, CACHE_FILE.lastIndexOf('/')));
    tree.replace(CACHE_FILE, JSON.stringify(data));
  } catch {
    /* read-only checkout, or a link in .idekube/cache/ (never written through): no cache */
  }
}

/** The project, for the cache file: no component below the root may be a link (refused, then no cache). */
function cacheTree(root: string): SafeTree {
  return new SafeTree(root, outputRefusal(root));
}
