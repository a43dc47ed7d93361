/** Schema validation with errors in words a contributor can act on, each pointing at a line. */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { InputError, throwCollected } from './errors.js';
import { preview, ruleForPattern, ruleProblem } from './schema.js';
import { isRecord } from './guards.js';
import type { YamlFile } from './yamlfile.js';

let ajv: Ajv | undefined;

/** ajv caches each compiled schema by its object: compiling again returns the same function. */
function validatorFor<T>(schema: object): ValidateFunction<T> {
  // loaded on first use: a cached catalog is not validated again (require is untyped: the type comes from the import)
  const AjvClass = (createRequire(import.meta.url)('ajv') as { Ajv: typeof import('ajv').Ajv }).Ajv;
  ajv ??= new AjvClass({ allErrors: true, strict: false });
  return ajv.compile<T>(schema);
}

/**
 * The file's data as `T` (the type written to match `schema`, see manifest-types.ts), or every error at once. ajv's
 * validate function is the type guard.
 */
export function validateAgainst<T>(schema: object, yaml: YamlFile, what: string): T {
  const validate = validatorFor<T>(schema);
  const data = yaml.data;
  const valid = validate(data);
  const errors = valid ? [] : simplify(validate.errors ?? [], schema).map((e) => toInputError(e, yaml, schema, what));
  // Numbers and booleans are fine where the schema wants one, but where text is meant YAML must not have rewritten it.
  const typed = new Set(errors.map((e) => e.location.path ?? ''));
  for (const e of lossyScalars(schema, yaml)) if (!typed.has(e.location.path ?? '')) errors.push(e);
  throwCollected(errors);
  if (valid) return data;
  // every ajv error was noise (see simplify): none of our schemas fails that way
  throw new InputError(`${what} does not match its schema`, { file: yaml.file }, 'see `idekube schema`');
}

/** A JSON Schema object, or a YAML mapping, walked key by key. */
type SchemaNode = Record<string, unknown>;
const isNode = isRecord;

/** A parameter of an ajv error (ajv types its params as a record of `any`: each reader narrows). */
function param(e: ErrorObject, name: string): unknown {
  return e.params[name];
}

function listParam(e: ErrorObject, name: string): unknown[] {
  const v = param(e, name);
  return Array.isArray(v) ? v : [];
}

/**
 * Drop the noise ajv adds around a real error (e.g. "must match a schema in anyOf" next to the specific one). An
 * anyOf whose holder has a description is one rule ("a layer must do something"): its branches' errors go, it stays.
 */
function simplify(errors: ErrorObject[], schema: object): ErrorObject[] {
  const described = errors
    .filter((e) => e.keyword === 'anyOf' && typeof schemaAt(schema, e.schemaPath)?.description === 'string')
    .map((e) => `${e.schemaPath}/`);
  const out: ErrorObject[] = [];
  const seen = new Set<string>();
  const names = new Set(errors.filter((e) => e.propertyName !== undefined).map((e) => `${e.instancePath}|${e.propertyName}`));
  for (const e of errors) {
    if (described.some((p) => e.schemaPath.startsWith(p))) continue;
    if (e.keyword === 'anyOf' && !described.includes(`${e.schemaPath}/`)) continue;
    if (e.keyword === 'if' || e.keyword === 'oneOf') continue;
    // propertyNames reports twice (the name's own error, then "property name must be valid"); keep the first.
    if (e.keyword === 'propertyNames' && names.has(`${e.instancePath}|${String(param(e, 'propertyName'))}`)) continue;
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}|${e.propertyName ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

/** The schema that applies at a data path (properties, additionalProperties, items; enough for our schemas). */
function schemaFor(schema: unknown, path: Array<string | number>): SchemaNode | undefined {
  let node = schema;
  for (const step of path) {
    if (!isNode(node)) return undefined;
    const props = node.properties;
    if (typeof step === 'number' && isNode(node.items)) node = node.items;
    else if (isNode(props) && Object.hasOwn(props, String(step))) node = props[String(step)];
    else if (isNode(node.additionalProperties)) node = node.additionalProperties;
    else return undefined;
  }
  return isNode(node) ? node : undefined;
}

function allowsString(node: SchemaNode | undefined): boolean {
  const t = node?.type;
  return t === 'string' || (Array.isArray(t) && t.includes('string'));
}

/** Numbers and booleans where the schema also takes text, whose YAML text is not what String() gives back. */
function lossyScalars(schema: object, yaml: YamlFile): InputError[] {
  const out: InputError[] = [];
  const walk = (v: unknown, path: Array<string | number>) => {
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i]);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else if ((typeof v === 'number' || typeof v === 'boolean') && allowsString(schemaFor(schema, path))) {
      const text = yaml.source(path);
      if (text !== undefined && text !== String(v)) {
        out.push(
          new InputError(
            `YAML reads ${preview(text).slice(1, -1)} as the ${typeof v} ${String(v)}, which loses its text`,
            yaml.locate(path),
            `quote it: ${preview(text)}`,
          ),
        );
      }
    }
  };
  walk(yaml.data, []);
  return out;
}

function splitPointer(p: string): Array<string | number> {
  if (!p) return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function schemaAt(schema: object, schemaPath: string): SchemaNode | undefined {
  // "#/properties/from/additionalProperties" → the object holding the failing keyword
  const parts = schemaPath.replace(/^#\//, '').split('/');
  parts.pop();
  let node: unknown = schema;
  for (const p of parts) {
    if (isNode(node)) node = node[p.replace(/~1/g, '/')];
    else return undefined;
  }
  return isNode(node) ? node : undefined;
}

function toInputError(e: ErrorObject, yaml: YamlFile, schema: object, what: string): InputError {
  const path = splitPointer(e.instancePath);
  const parent = schemaAt(schema, e.schemaPath);
  const allowedKeys = isNode(parent?.properties) ? Object.keys(parent.properties) : [];
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String(param(e, 'additionalProperty'));
      return new InputError(
        `unknown key ${preview(prop)} in ${what}`,
        yaml.locate([...path, prop], true),
        allowedKeys.length ? `allowed keys here: ${allowedKeys.join(', ')}` : 'remove it',
      );
    }
    case 'required': {
      const prop = String(param(e, 'missingProperty'));
      return new InputError(`missing required key ${JSON.stringify(prop)} in ${what}`, yaml.locate(path), `add ${prop}:`);
    }
    case 'type':
      return typeError(e, yaml, path, parent);
    case 'enum':
      return new InputError(
        `${preview(valueAt(yaml.data, path))} is not allowed`,
        yaml.locate(path),
        `use one of: ${listParam(e, 'allowedValues').join(', ')}`,
      );
    case 'pattern':
      return patternError(e, yaml, path, parent);
    case 'propertyNames': {
      const prop = String(param(e, 'propertyName'));
      return new InputError(
        `invalid name ${preview(prop)}`,
        yaml.locate([...path, prop], true),
        'names are letters, digits, - or _ (see `idekube schema`)',
      );
    }
    case 'anyOf': {
      // a described anyOf (see simplify): "what is wrong: how to fix it"
      const [message, fix] = (describeExpected(parent) ?? 'does not match any allowed form: see `idekube schema`').split(/: (.*)/s);
      return new InputError(message!, yaml.locate(path), fix);
    }
    case 'uniqueItems':
      return new InputError('list has duplicate entries', yaml.locate(path), 'list each entry once');
    case 'minProperties':
    case 'maxProperties': {
      const limit = Number(param(e, 'limit'));
      const bound = e.keyword === 'maxProperties' ? 'at most' : 'at least';
      return new InputError(
        `must have ${bound} ${limit} key${limit === 1 ? '' : 's'}`,
        yaml.locate(path),
        describeExpected(parent) ?? 'see `idekube schema`',
      );
    }
    default:
      return new InputError(e.message ?? 'invalid value', yaml.locate(path), 'see `idekube schema`');
  }
}

/** A value of the wrong type; a number or boolean where text is meant is told how to quote it. */
function typeError(e: ErrorObject, yaml: YamlFile, path: Array<string | number>, parent: SchemaNode | undefined): InputError {
  const type = param(e, 'type');
  const types = Array.isArray(type) ? type.map(String) : String(type).split(',');
  const v = valueAt(yaml.data, path);
  if (types.includes('string') && (typeof v === 'number' || typeof v === 'boolean')) {
    // a number or boolean where text is meant: say how to write it as text, as it was written
    const text = yaml.source(path) ?? String(v);
    return new InputError(
      `must be ${article(types.join(','))}, not the ${typeof v} ${String(v)}`,
      yaml.locate(path),
      `quote it: ${preview(text)}`,
    );
  }
  return new InputError(`must be ${article(types.join(','))}`, yaml.locate(path), describeExpected(parent));
}

/** A key or value that does not match its pattern: named after its rule where one has that pattern. */
function patternError(e: ErrorObject, yaml: YamlFile, path: Array<string | number>, parent: SchemaNode | undefined): InputError {
  const pattern = String(param(e, 'pattern') ?? '');
  const rule = ruleForPattern(pattern);
  if (e.propertyName !== undefined) {
    const at = yaml.locate([...path, e.propertyName], true);
    if (rule)
      return new InputError(
        `invalid ${rule.title} ${preview(e.propertyName)}: ${ruleProblem(rule, e.propertyName) ?? 'not allowed'}`,
        at,
        rule.fix,
      );
    return new InputError(
      `invalid name ${preview(e.propertyName)}`,
      at,
      describeExpected(parent) ?? 'names are letters, digits, - or _ (see `idekube schema`)',
    );
  }
  const v = valueAt(yaml.data, path);
  if (rule && typeof v === 'string')
    return new InputError(`invalid ${rule.title} ${preview(v)}: ${ruleProblem(rule, v) ?? 'not allowed'}`, yaml.locate(path), rule.fix);
  return new InputError(`${preview(v)} is not a valid value`, yaml.locate(path), describeExpected(parent) ?? `it must match ${pattern}`);
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describeExpected(schemaNode: SchemaNode | undefined): string | undefined {
  const d = schemaNode?.description;
  return typeof d === 'string' ? d : undefined;
}

function valueAt(data: unknown, path: Array<string | number>): unknown {
  let v = data;
  for (const p of path) v = isNode(v) ? v[p] : undefined;
  return v;
}
