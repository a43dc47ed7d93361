/**
 * YAML files with positions: parse once, keep the document, and turn a data path (["from","parent"]) back into
 * a file:line so that every schema error can point at the offending line.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, Node } from 'yaml';
import { InputError, throwCollected, type Location } from './errors.js';

export interface YamlFile {
  file: string;
  data: unknown;
  locate(path: ReadonlyArray<string | number>, key?: boolean): Location;
}

export function loadYamlFile(file: string, displayFile = file): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, { file: displayFile });
  }
  return parseYaml(text, displayFile);
}

// `yaml` is loaded on first parse: a cached catalog (see catalog-cache.ts) never needs it.
let yamlLib: typeof import('yaml') | undefined;
function lib(): typeof import('yaml') {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlLib;
}

/** A file whose data is already known (from the cache); positions are parsed only if an error needs them. */
export function lazyYamlFile(absPath: string, file: string, data: unknown): YamlFile {
  let parsed: YamlFile | undefined;
  return {
    file,
    data,
    locate(path, key) {
      parsed ??= loadYamlFile(absPath, file);
      return parsed.locate(path, key);
    },
  };
}

export function parseYaml(text: string, file: string): YamlFile {
  const { LineCounter, parseDocument } = lib();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const errors = doc.errors.map((err) => {
    const pos = lineCounter.linePos(err.pos[0]);
    return new InputError(`invalid YAML: ${err.message.split('\n')[0]}`, { file, line: pos.line, column: pos.col }, 'fix the YAML syntax');
  });
  throwCollected(errors);
  const data = doc.toJS() ?? {};
  const at = (offset: number | undefined): Location => {
    if (offset === undefined) return { file };
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  return {
    file,
    data,
    locate(path, key = false) {
      const loc = { ...at(nodeFor(doc, path, key)?.range?.[0]), path: formatPath(path) };
      if (!loc.path) delete (loc as Location).path;
      return loc;
    },
  };
}

/** The deepest node that exists along `path` (the key node when `key` is set and the last step is a map key). */
function nodeFor(doc: Document, path: ReadonlyArray<string | number>, key: boolean): Node | undefined {
  const { isMap, isPair, isScalar } = lib();
  let node: unknown = doc.contents;
  let found = node as Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const step = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return found;
      if (key && i === path.length - 1) return pair.key as Node;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      node = (node as { items: unknown[] }).items[Number(step)];
    } else {
      return found;
    }
    if (node && typeof node === 'object' && 'range' in node) found = node as Node;
  }
  return found;
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
