/** The validated model every later stage (generate → plan → drivers) reads. Plain data, no I/O. */
import type { Platform } from './platform.js';
import type { YamlFile } from './yamlfile.js';

export type { Platform };

export interface Route {
  path: string;
  port: number;
  exact?: boolean;
  websocket?: boolean;
  upstream?: string;
  keepPrefix?: boolean;
  /** Reachable without the access token (a service that authenticates on its own, like SSH with keys). */
  open?: boolean;
}

export interface Program {
  command: string;
  user?: string;
  directory?: string;
  priority?: number;
  environment?: Record<string, string>;
  stopasgroup?: boolean;
}

export type ServiceCheck = 'http' | 'coder' | 'jupyter' | 'vnc' | 'ssh' | 'dind' | 'terminal' | 'none';

export interface Service {
  name: string;
  /** The layer that provides it. */
  layer: string;
  description?: string;
  routes: Route[];
  programs: Record<string, Program>;
  check?: ServiceCheck;
  /** The flavor's main service (its /health turns 502 when it is down); the last one declared wins. */
  main?: boolean;
}

/** A command the layer installs, proven by `idekube test` in the image's web terminal (exit 0, output holding `expect`). */
export interface LayerCommand {
  name: string;
  layer: string;
  run: string;
  expect?: string;
}

export interface LayerDef {
  name: string;
  /** Path of the layer's YAML, relative to the project root. */
  file: string;
  /** artifacts/layers/<name>, relative to the project root (may not exist for data-only layers). */
  artifactsDir: string;
  description?: string;
  run?: string;
  copy: Array<{ src: string; dest: string; chown?: string }>;
  copyFrom?: { image: string; src: string; dest: string };
  /** Build args the layer reads, with defaults (null: no default, a value must come from .dockerargs/env/flags). */
  args: Record<string, string | null>;
  env: Record<string, string>;
  platforms?: Platform[];
  services: Service[];
  commands: LayerCommand[];
  after: string[];
  requires: string[];
  last: boolean;
  yaml: YamlFile;
}

export interface FlavorDef {
  /** `featured/base` */
  id: string;
  flavor: string;
  variant: string;
  /** flavors/featured/base/flavor.yaml, relative to the project root. */
  file: string;
  dir: string;
  description?: string;
  from: { image: string } | { parent: string };
  /** As declared (undefined: inherit from the parent, or both platforms for a root flavor). */
  declaredPlatforms?: Platform[];
  /** This flavor's own layers, in order (the parent's come before them). */
  layers: string[];
  args: Record<string, string | null>;
  env: Record<string, string>;
  labels: Record<string, string>;
  /** flavors/<f>/<v>/.dockerargs when present. */
  argsFile?: string;
  yaml: YamlFile;
}

export interface Catalog {
  root: string;
  flavors: Map<string, FlavorDef>;
  layers: Map<string, LayerDef>;
  /** Parents before children; ties sorted by id, so the order is stable. */
  order: string[];
}

export function parentOf(f: FlavorDef): string | undefined {
  return 'parent' in f.from ? f.from.parent : undefined;
}
