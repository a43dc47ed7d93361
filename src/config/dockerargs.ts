/**
 * `.dockerargs` files: one `KEY=VALUE` per line (upstream-compatible), plus what the upstream parser lacked:
 * comments, blank lines, optional quotes, CRLF, a last line without newline, and errors that name file:line.
 */
import { InputError, throwCollected } from './errors.js';

export interface ArgEntry {
  key: string;
  value: string;
  file: string;
  line: number;
}

/** Docker build-arg names: a letter or underscore, then letters, digits, underscores. */
export const ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Upstream files end with this line so that their `read` loop does not drop the real last line. */
const SENTINEL = '__EOF__';

export function parseDockerargs(text: string, file: string): ArgEntry[] {
  const entries: ArgEntry[] = [];
  const errors: InputError[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((rawLine, index) => {
    const line = index + 1;
    const text = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const body = trimmed.startsWith('export ') ? trimmed.slice('export '.length).trimStart() : trimmed;
    const eq = body.indexOf('=');
    if (eq < 0) {
      errors.push(
        new InputError(`line has no '=': ${JSON.stringify(trimmed)}`, { file, line }, 'write KEY=VALUE, or start the line with # to make it a comment'),
      );
      return;
    }
    const key = body.slice(0, eq).trim();
    if (!ARG_KEY.test(key)) {
      errors.push(
        new InputError(
          `invalid key ${JSON.stringify(key)}`,
          { file, line },
          'keys are letters, digits and underscores, and do not start with a digit (e.g. CODER_VERSION)',
        ),
      );
      return;
    }
    let value: string;
    try {
      value = parseValue(body.slice(eq + 1));
    } catch (e) {
      errors.push(new InputError(`${(e as Error).message} in the value of ${key}`, { file, line }, 'close the quote, or drop the quotes'));
      return;
    }
    if (key === SENTINEL && value === SENTINEL) return;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push(
        new InputError(`duplicate key ${key} (first set on line ${first})`, { file, line }, `keep one ${key}= line in ${file}`),
      );
      return;
    }
    seen.set(key, line);
    entries.push({ key, value, file, line });
  });
  throwCollected(errors);
  return entries;
}

/** Unquoted values are taken verbatim (trimmed); "double" quotes allow \" \\ \n \t escapes; 'single' quotes are literal. */
function parseValue(raw: string): string {
  const v = raw.trim();
  const q = v[0];
  if (q !== '"' && q !== "'") return v;
  let out = '';
  let i = 1;
  for (; i < v.length; i++) {
    const c = v[i]!;
    if (c === q) break;
    if (q === '"' && c === '\\' && i + 1 < v.length) {
      const n = v[++i]!;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      continue;
    }
    out += c;
  }
  if (i >= v.length) throw new Error(`unterminated ${q === '"' ? 'double' : 'single'} quote`);
  const rest = v.slice(i + 1).trim();
  if (rest !== '' && !rest.startsWith('#')) throw new Error(`unexpected text after the closing quote: ${JSON.stringify(rest)}`);
  return out;
}
