/**
 * The data of a flavor.yaml and a layer .yaml once ajv has accepted it against flavorSchema / layerSchema
 * (schema.ts): what catalog.ts reads before turning it into the model. Written to match the schemas; the keys are
 * checked against them at compile time (test/unit/manifest-types.test.ts).
 */
import type { Platform, Route, ServiceCheck } from './model.js';

/** A YAML scalar where the schema takes text, a number or a boolean (the catalog keeps its text). */
export type ManifestScalar = string | number | boolean;

export interface ProgramManifest {
  command: string;
  user?: string;
  directory?: string;
  priority?: number;
  environment?: Record<string, ManifestScalar>;
  stopasgroup?: boolean;
}

export interface ServiceManifest {
  description?: string;
  routes?: Route[];
  programs?: Record<string, ProgramManifest>;
  check?: ServiceCheck;
  main?: boolean;
}

export interface CopyManifest {
  src: string;
  dest: string;
  chown?: string;
}

export interface CopyFromManifest {
  image: string;
  src: string;
  dest: string;
}

export interface CommandManifest {
  run: string;
  expect?: string;
}

export interface LayerManifest {
  description?: string;
  run?: string;
  copy?: CopyManifest[];
  copyFrom?: CopyFromManifest;
  /** null: no default (a value must come from .dockerargs, the environment or a flag). */
  args?: Record<string, ManifestScalar | null>;
  env?: Record<string, ManifestScalar>;
  platforms?: Platform[];
  services?: Record<string, ServiceManifest>;
  commands?: Record<string, CommandManifest>;
  after?: string[];
  requires?: string[];
  last?: boolean;
}

export interface FlavorManifest {
  description?: string;
  /** Exactly one of the two (minProperties/maxProperties 1). */
  from: { image: string } | { parent: string };
  platforms?: Platform[];
  layers?: string[];
  args?: Record<string, ManifestScalar | null>;
  env?: Record<string, ManifestScalar>;
  labels?: Record<string, string>;
}
