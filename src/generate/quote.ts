/**
 * Quoting for the generated files, and the second line of defence behind the manifest schemas: every manifest
 * string is checked again against the rule of its kind (src/config/schema.ts RULES) right where it is written, so a
 * value that bypassed the schema (a cached catalog, a new code path) still cannot start a new Dockerfile
 * instruction, supervisord section or nginx directive.
 */
import { InputError, type Location } from '../config/errors.js';
import { describeChar, preview, ruleProblem, type Rule } from '../config/schema.js';

/** Dockerfile value quoting. ARG defaults are literal (no $ expansion); ENV values may refer to ${VARS}. */
const BARE = /^[A-Za-z0-9_.:/@+,=-]+$/;
/** Control characters; a value may hold tabs (and an ARG newlines, written as \n — see .dockerargs quoting). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;
const CONTROL_BUT_NEWLINE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/;

/** Where a value came from; a function when finding the line costs a YAML parse (only done for an error). */
export type Where = Location | (() => Location);
const place = (w: Where): Location => (typeof w === 'function' ? w() : w);

/** The value if it keeps `rule`; otherwise an InputError that says where, what is wrong and what is allowed. */
export function checked(rule: Rule, value: string, where: Where = {}, what = rule.title): string {
  if (typeof value !== 'string') throw new InputError(`${what} must be text, not ${preview(value)}`, place(where), rule.fix);
  const problem = ruleProblem(rule, value);
  if (problem) throw new InputError(`invalid ${what} ${preview(value)}: ${problem}`, place(where), rule.fix);
  return value;
}

function refuse(re: RegExp, v: string, what: string, where: Where): void {
  const m = re.exec(v);
  if (m) throw new InputError(`${what} ${preview(v)} contains ${describeChar(m[0])}`, place(where), 'remove the control character');
}

export function argValue(v: string, what = 'build arg value', where: Where = {}): string {
  refuse(CONTROL_BUT_NEWLINE, v, what, where);
  if (BARE.test(v)) return v;
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n')}"`;
}

export function envValue(v: string, what = 'value', where: Where = {}): string {
  refuse(CONTROL, v, what, where);
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The JSON (exec) form of a Dockerfile instruction's arguments: `["layers/x/my dir/", "/opt/my dest"]`. Each part is
 * one JSON string, so spaces and quotes stay inside it and nothing can reach the next line.
 */
export function jsonArgs(parts: string[], what = 'path', where: Where = {}): string {
  for (const p of parts) refuse(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/, p, what, where);
  return `[${parts.map((p) => JSON.stringify(p)).join(', ')}]`;
}

/**
 * A value in supervisord's INI file: one line, `%` doubled (supervisord expands %(name)s), and no whitespace before
 * ; or # (its parser would cut the line there as an inline comment; there is no way to escape that).
 */
export function supervisorValue(v: string, what: string, where: Where = {}): string {
  refuse(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/, v, what, where);
  if (/\s[;#]/.test(v))
    throw new InputError(
      `${what} ${preview(v)} has a space before ; or #, where supervisord would cut the line`,
      place(where),
      'drop the space, or move the command into a script',
    );
  return v.replace(/%/g, '%%');
}
