// Records every module the process resolves (ESM and CommonJS) into $IDEKUBE_TRACE_LOADS, one URL or path per line.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import Module from 'node:module';

const out = process.env.IDEKUBE_TRACE_LOADS;
register(`data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(out)}, r.url + '\\n');
  return r;
}`)}`);
const original = Module._load;
Module._load = function (request, parent, isMain) {
  appendFileSync(out, `cjs:${request}\n`);
  return original.call(this, request, parent, isMain);
};
