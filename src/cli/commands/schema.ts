import { InputError } from '../../config/errors.js';
import { flavorSchema, layerSchema } from '../../config/schema.js';
import { printJson, type Context } from '../context.js';

export async function schema(ctx: Context, kind: string): Promise<void> {
  const schemas: Record<string, object> = { flavor: flavorSchema, layer: layerSchema };
  const s = schemas[kind];
  if (!s) throw new InputError(`unknown schema ${JSON.stringify(kind)}`, undefined, 'use: idekube schema flavor, or idekube schema layer');
  printJson(ctx.io, { $schema: 'http://json-schema.org/draft-07/schema#', ...s });
}
