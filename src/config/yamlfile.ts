/**
 * YAML files with positions: parse once, keep the document, and turn a data path (["from","parent"]) back into
 * a file:line so that every schema error can point at the offending line.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, Node } from 'yaml';
import { InputError, type Location, messageOf, throwCollected } from './errors.js';
import { describeChar, preview } from './schema.js';

export interface YamlFile {
  file: string;
  data: unknown;
  locate(path: ReadonlyArray<string | number>, key?: boolean): Location;
  /** The text of the scalar at `path` as written in the file (`1.10` for a value YAML reads as 1.1). */
  source(path: ReadonlyArray<string | number>): string | undefined;
}

/** More alias expansions than this is an attack ("billion laughs"), not a manifest. */
export const MAX_ALIAS_COUNT = 100;

/** Control characters no manifest value may hold: all but tab and newline (newlines are refused per field). */
const BAD_CHAR = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function loadYamlFile(file: string, displayFile = file): YamlFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read: ${messageOf(e)}`, { file: displayFile });
  }
  return parseYaml(decodeUtf8(bytes, displayFile), displayFile);
}

/** Strict UTF-8: invalid bytes are an error at their line, never silently replaced. */
function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      const chunk = bytes.subarray(start, end < 0 ? bytes.length : end);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(chunk);
      } catch {
        throw new InputError(
          'the file is not valid UTF-8',
          { file, line },
          'save it as UTF-8 (remove or retype the character on that line)',
        );
      }
      if (end < 0) throw new InputError('the file is not valid UTF-8', { file }, 'save it as UTF-8');
      start = end + 1;
    }
  }
}

// `yaml` is loaded on first parse: a cached catalog (see catalog-cache.ts) never needs it. require is untyped: the
// type comes from the import.
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
    source(path) {
      parsed ??= loadYamlFile(absPath, file);
      return parsed.source(path);
    },
  };
}

export function parseYaml(text: string, file: string): YamlFile {
  const { LineCounter, parseDocument } = lib();
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    throw new InputError(`invalid YAML: ${messageOf(e).split('\n')[0]!.slice(0, 200)}`, { file }, 'fix the YAML syntax');
  }
  const errors = doc.errors.map((err) => {
    const pos = lineCounter.linePos(err.pos[0]);
    return new InputError(`invalid YAML: ${err.message.split('\n')[0]}`, { file, line: pos.line, column: pos.col }, 'fix the YAML syntax');
  });
  throwCollected(errors);
  const at = (offset: number | undefined): Location => {
    if (offset === undefined) return { file };
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  throwCollected(badCharacters(doc, at));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    const { isAlias, visit } = lib();
    let first: Node | undefined;
    visit(doc, {
      Alias: (_k, n) => {
        first = n;
        return visit.BREAK;
      },
    });
    if (e instanceof ReferenceError && first) {
      throw new InputError(
        'too many YAML alias expansions (an alias bomb?)',
        at(first.range?.[0]),
        'write the values out instead of repeating anchors (&name) through aliases (*name)',
      );
    }
    throw new InputError(
      `invalid YAML: ${messageOf(e).split('\n')[0]!.slice(0, 200)}`,
      isAlias(first) ? at(first.range?.[0]) : { file },
      'fix the YAML syntax',
    );
  }
  return {
    file,
    data,
    locate(path, key = false) {
      // an empty document has no node at all: its errors point at line 1
      const loc = at(nodeFor(doc, path, key)?.range?.[0] ?? 0);
      const shown = formatPath(path);
      return shown ? { ...loc, path: shown } : loc;
    },
    source(path) {
      const { isAlias, isScalar } = lib();
      let node: unknown = exactNode(doc, path);
      if (isAlias(node)) node = node.resolve(doc);
      if (!isScalar(node)) return undefined;
      if (typeof node.source === 'string' && (node.type === 'PLAIN' || node.type === undefined)) return node.source;
      return node.range ? text.slice(node.range[0], node.range[1]) : undefined;
    },
  };
}

/** Every key or value holding a control character (other than tab and newline) or a lone surrogate. */
function badCharacters(doc: Document, at: (offset: number | undefined) => Location): InputError[] {
  const { isPair, isScalar, isSeq, visit } = lib();
  const errors: InputError[] = [];
  visit(doc, {
    Scalar(key, node, ancestors) {
      // the YAML path, for the message: map keys, and list indexes
      const where = (): Location => {
        const path: Array<string | number> = [];
        const chain = [...ancestors, node];
        for (let i = 0; i < chain.length - 1; i++) {
          const a = chain[i];
          if (isPair(a) && isScalar(a.key) && chain[i + 1] !== a.key) path.push(String(a.key.value));
          else if (isSeq(a)) path.push(a.items.indexOf(chain[i + 1]));
        }
        return { ...at(node.range?.[0]), ...(path.length ? { path: formatPath(path) } : {}) };
      };
      if (typeof node.value !== 'string') {
        // a key is always text: a key YAML reads as a number or boolean must keep what was written (1.10, not 1.1)
        const src = node.source;
        if (key === 'key' && typeof src === 'string' && src !== String(node.value)) {
          errors.push(
            new InputError(
              `YAML reads the key ${preview(src).slice(1, -1)} as ${String(node.value)}`,
              where(),
              `quote it: ${preview(src)}`,
            ),
          );
        }
        return;
      }
      const m = BAD_CHAR.exec(node.value);
      if (!m) return;
      const what = key === 'key' ? 'key' : 'value';
      const c = /[\ud800-\udfff]/.test(m[0]) ? 'an unpaired surrogate' : describeChar(m[0]);
      errors.push(
        new InputError(
          `${what} contains ${c}`,
          where(),
          'remove the control character (write text on one line; only tabs are allowed, and newlines in descriptions)',
        ),
      );
    },
  });
  return errors;
}

/** The node exactly at `path` (undefined when the path does not exist). */
function exactNode(doc: Document, path: ReadonlyArray<string | number>): unknown {
  const { isAlias, isMap, isPair, isScalar, isSeq } = lib();
  let node: unknown = doc.contents;
  for (const step of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(step)];
    } else return undefined;
  }
  return node;
}

/** The deepest node that exists along `path` (the key node when `key` is set and the last step is a map key). */
function nodeFor(doc: Document, path: ReadonlyArray<string | number>, key: boolean): Node | undefined {
  const { isMap, isNode, isPair, isScalar, isSeq } = lib();
  let node: unknown = doc.contents;
  let found = isNode(node) ? node : undefined;
  for (let i = 0; i < path.length; i++) {
    const step = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return found;
      if (key && i === path.length - 1) return isNode(pair.key) ? pair.key : found;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(step)];
    } else {
      return found;
    }
    if (isNode(node)) found = node;
  }
  return found;
}

export function formatPath(path: ReadonlyArray<string | number>): string {
  // a key that is not a plain word is shown JSON-quoted (and shortened): a newline in a key stays on its line
  const key = (p: string) => (/^[A-Za-z0-9_./${}-]+$/.test(p) && p.length <= 80 ? p : `[${preview(p)}]`);
  return path
    .map((p, i) => {
      if (typeof p === 'number') return `[${p}]`;
      const k = key(p);
      return i === 0 || k.startsWith('[') ? k : `.${k}`;
    })
    .join('');
}
