/**
 * A validated catalog, cached as JSON under .idekube/cache/ and keyed by the size and mtime of every file under
 * flavors/ and artifacts/layers/ (plus the schema), so `list`, `tags` and `plan` skip YAML parsing and schema
 * validation when nothing changed. Any change, or any doubt, means a full load. Writing it is best effort.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const walk = (rel: string) => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return;
    for (const name of readdirSync(abs).sort()) {
      const r = `${rel}/${name}`;
      const st = statSync(join(root, r));
      if (st.isDirectory()) walk(r);
      else parts.push(`${r}\0${st.size}\0${st.mtimeMs}`);
    }
  };
  walk('flavors');
  walk('artifacts/layers');
  return parts.join('\n');
}

export function readCached(root: string, fp: string): Catalog | undefined {
  try {
    const c = JSON.parse(readFileSync(join(root, CACHE_FILE), 'utf8')) as CacheFile;
    if (c.version !== VERSION || c.fingerprint !== fp) return undefined;
    const revive = <T extends { file: string }>(x: Stored<T>): T => {
      const { yamlData, ...rest } = x;
      return { ...(rest as unknown as T), yaml: lazyYamlFile(join(root, x.file), x.file, yamlData) };
    };
    return {
      root,
      flavors: new Map(c.flavors.map((f) => [f.id, revive<FlavorDef>(f)])),
      layers: new Map(c.layers.map((l) => [l.name, revive<LayerDef>(l)])),
      order: c.order,
    };
  } catch {
    return undefined;
  }
}

export function writeCached(root: string, fp: string, catalog: Catalog): void {
  const strip = <T extends { yaml: { data: unknown } }>(x: T): Stored<T> => {
    const { yaml, ...rest } = x;
    return { ...(rest as Omit<T, 'yaml'>), yamlData: yaml.data } as Stored<T>;
  };
  const data: CacheFile = { version: VERSION, fingerprint: fp, flavors: [...catalog.flavors.values()].map(strip), layers: [...catalog.layers.values()].map(strip), order: catalog.order };
  try {
    const file = join(root, CACHE_FILE);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(data));
    renameSync(`${file}.tmp`, file);
  } catch {
    /* read-only checkout: no cache */
  }
}
