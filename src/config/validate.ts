/** Schema validation with errors in words a contributor can act on, each pointing at a line. */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { InputError, throwCollected } from './errors.js';
import type { YamlFile } from './yamlfile.js';

let ajv: Ajv | undefined;
const compiled = new Map<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    // loaded on first use: a cached catalog is not validated again
    const AjvClass = (createRequire(import.meta.url)('ajv') as { Ajv: typeof import('ajv').Ajv }).Ajv;
    ajv ??= new AjvClass({ allErrors: true, strict: false });
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export function validateAgainst(schema: object, yaml: YamlFile, what: string): void {
  const validate = validatorFor(schema);
  if (validate(yaml.data)) return;
  const errors = simplify(validate.errors ?? []).map((e) => toInputError(e, yaml, schema, what));
  throwCollected(errors);
}

/** Drop the noise ajv adds around a real error (e.g. "must match a schema in anyOf" next to the specific one). */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    // propertyNames reports twice (the name, then the object); keep the first.
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
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

function schemaAt(schema: object, schemaPath: string): Record<string, unknown> | undefined {
  // "#/properties/from/additionalProperties" → the object holding the failing keyword
  const parts = schemaPath.replace(/^#\//, '').split('/');
  parts.pop();
  let node: unknown = schema;
  for (const p of parts) {
    if (node && typeof node === 'object') node = (node as Record<string, unknown>)[p.replace(/~1/g, '/')];
    else return undefined;
  }
  return node as Record<string, unknown> | undefined;
}

function toInputError(e: ErrorObject, yaml: YamlFile, schema: object, what: string): InputError {
  const path = splitPointer(e.instancePath);
  const parent = schemaAt(schema, e.schemaPath);
  const allowedKeys = parent && typeof parent.properties === 'object' ? Object.keys(parent.properties as object) : [];
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty);
      return new InputError(
        `unknown key ${JSON.stringify(prop)} in ${what}`,
        yaml.locate([...path, prop], true),
        allowedKeys.length ? `allowed keys here: ${allowedKeys.join(', ')}` : 'remove it',
      );
    }
    case 'required': {
      const prop = (e.params as { missingProperty: string }).missingProperty;
      return new InputError(`missing required key ${JSON.stringify(prop)} in ${what}`, yaml.locate(path), `add ${prop}:`);
    }
    case 'type':
      return new InputError(`must be ${article((e.params as { type: string }).type)}`, yaml.locate(path), describeExpected(parent));
    case 'enum':
      return new InputError(
        `${JSON.stringify(valueAt(yaml.data, path))} is not allowed`,
        yaml.locate(path),
        `use one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`,
      );
    case 'pattern':
      return new InputError(`${JSON.stringify(valueAt(yaml.data, path))} is not a valid value`, yaml.locate(path), describeExpected(parent) ?? `it must match ${(e.params as { pattern: string }).pattern}`);
    case 'propertyNames': {
      const prop = (e.params as { propertyName: string }).propertyName;
      return new InputError(`invalid name ${JSON.stringify(prop)}`, yaml.locate([...path, prop], true), 'names are letters, digits, - or _ (see `idekube schema`)');
    }
    case 'uniqueItems':
      return new InputError('list has duplicate entries', yaml.locate(path), 'list each entry once');
    case 'minProperties':
    case 'maxProperties': {
      const { limit } = e.params as { limit: number };
      const bound = e.keyword === 'maxProperties' ? 'at most' : 'at least';
      return new InputError(`must have ${bound} ${limit} key${limit === 1 ? '' : 's'}`, yaml.locate(path), describeExpected(parent) ?? 'see `idekube schema`');
    }
    default:
      return new InputError(e.message ?? 'invalid value', yaml.locate(path), 'see `idekube schema`');
  }
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describeExpected(schemaNode: Record<string, unknown> | undefined): string | undefined {
  const d = schemaNode?.description;
  return typeof d === 'string' ? d : undefined;
}

function valueAt(data: unknown, path: Array<string | number>): unknown {
  let v = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}
