/**
 * The hand-written manifest types (src/config/manifest-types.ts) name the same keys as the JSON schemas: checked by the
 * compiler (SameKeys below fails to compile when a key is added on one side only) and again at run time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlavorManifest, LayerManifest, ProgramManifest, ServiceManifest } from '../../src/config/manifest-types.js';
import type { Route } from '../../src/config/model.js';
import { flavorSchema, layerSchema } from '../../src/config/schema.js';

type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;

const serviceSchema = layerSchema.properties.services.additionalProperties;
const agree: Record<string, true> = {
  flavor: true satisfies SameKeys<Required<FlavorManifest>, typeof flavorSchema.properties>,
  layer: true satisfies SameKeys<Required<LayerManifest>, typeof layerSchema.properties>,
  service: true satisfies SameKeys<Required<ServiceManifest>, typeof serviceSchema.properties>,
  program: true satisfies SameKeys<Required<ProgramManifest>, typeof serviceSchema.properties.programs.additionalProperties.properties>,
  route: true satisfies SameKeys<Required<Route>, typeof serviceSchema.properties.routes.items.properties>,
};

// The keys each type names, listed once: the compiler refuses a missing or an extra one.
const flavorKeys: { [K in keyof FlavorManifest]-?: true } = {
  description: true,
  from: true,
  platforms: true,
  layers: true,
  args: true,
  env: true,
  labels: true,
};
const layerKeys: { [K in keyof LayerManifest]-?: true } = {
  description: true,
  run: true,
  copy: true,
  copyFrom: true,
  args: true,
  env: true,
  platforms: true,
  services: true,
  commands: true,
  after: true,
  requires: true,
  last: true,
};

describe('manifest types', () => {
  it('name the keys of the schemas', () => {
    assert.deepEqual(Object.keys(agree), ['flavor', 'layer', 'service', 'program', 'route']);
    assert.deepEqual(Object.keys(flavorKeys).sort(), Object.keys(flavorSchema.properties).sort());
    assert.deepEqual(Object.keys(layerKeys).sort(), Object.keys(layerSchema.properties).sort());
  });
  it('require what the schemas require', () => {
    assert.deepEqual([...flavorSchema.required], ['from'] satisfies Array<keyof FlavorManifest>);
    assert.equal('required' in layerSchema, false);
  });
});
