/**
 * `.dockerargs` files: one `KEY=VALUE` per line (upstream-compatible), plus what the upstream parser lacked:
 * comments, blank lines, optional quotes, CRLF, a last line without newline, and errors that name file:line.
 */
import { ErrorList, InputError, messageOf } from './errors.js';

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

/** A key in a message: whole up to 60 characters (a valid key can be any length). */
export function shortKey(key: string): string {
  return key.length <= 60 ? key : `${key.slice(0, 60)}… (${key.length} characters)`;
}

/**
 * What of an invalid key a message may show: a short name-like text (`MY-KEY`, `1KEY`) helps find the typo; anything
 * else (a line of base64 with `=` padding, a password file) is never echoed.
 */
function keyShown(key: string): string | undefined {
  return key.length <= 40 && /^[A-Za-z0-9_.-]+$/.test(key) ? JSON.stringify(key) : undefined;
}

/**
 * Parses one file. Linear in its size; errors beyond the first MAX_ERRORS_SHOWN are counted, not kept, and no
 * message repeats a value or a line that is not a KEY=VALUE line (the file may be anything a link points at).
 */
export function parseDockerargs(text: string, file: string): ArgEntry[] {
  const entries: ArgEntry[] = [];
  const errors = new ErrorList();
  const seen = new Map<string, number>();
  const body0 = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let start = 0;
  for (let index = 0; start <= body0.length; index++) {
    let end = body0.indexOf('\n', start);
    if (end < 0) end = body0.length;
    const rawLine = body0.slice(start, end);
    start = end + 1;
    const line = index + 1;
    const text = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const body = trimmed.startsWith('export ') ? trimmed.slice('export '.length).trimStart() : trimmed;
    const eq = body.indexOf('=');
    if (eq < 0) {
      errors.add(
        new InputError(
          `line ${line} is not KEY=VALUE (it has no '=')`,
          { file, line },
          'write KEY=VALUE, or start the line with # to make it a comment',
        ),
      );
      continue;
    }
    const key = body.slice(0, eq).trim();
    if (!ARG_KEY.test(key)) {
      const shown = keyShown(key);
      errors.add(
        new InputError(
          shown ? `invalid key ${shown}` : `line ${line} is not KEY=VALUE (what comes before '=' is not a key name)`,
          { file, line },
          'keys are letters, digits and underscores, and do not start with a digit (e.g. CODER_VERSION)',
        ),
      );
      continue;
    }
    let value: string;
    try {
      value = parseValue(body.slice(eq + 1));
    } catch (e) {
      errors.add(
        new InputError(
          `${messageOf(e)} in the value of ${shortKey(key)}`,
          { file, line },
          'close the quote, or drop the quotes (a value is taken verbatim)',
        ),
      );
      continue;
    }
    if (key === SENTINEL && value === SENTINEL) continue;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.add(
        new InputError(
          `duplicate key ${shortKey(key)} (first set on line ${first})`,
          { file, line },
          `keep one ${shortKey(key)}= line in ${file}`,
        ),
      );
      continue;
    }
    seen.set(key, line);
    entries.push({ key, value, file, line });
  }
  errors.throwIfAny();
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
  // the text itself is not repeated: it may be part of a secret
  if (rest !== '' && !rest.startsWith('#')) throw new Error('unexpected text after the closing quote');
  return out;
}
