/**
 * JSON Schemas of the two declarative files a contributor writes:
 *   flavors/<flavor>/<variant>/flavor.yaml   (a flavor: where it starts, which layers it adds)
 *   flavors/layers/<layer>.yaml              (a layer: one install step, the args it reads, the services it brings)
 * `idekube schema flavor|layer` prints them for editors (yaml-language-server).
 */

export const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
export type Platform = (typeof PLATFORMS)[number];

const name = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' };
const argMap = {
  type: 'object',
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
};
const envMap = {
  type: 'object',
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};
const platformList = { type: 'array', items: { enum: [...PLATFORMS] }, minItems: 1, uniqueItems: true };

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'port'],
  properties: {
    path: { type: 'string', pattern: '^/[A-Za-z0-9._~/-]*$', description: 'public path behind nginx, e.g. /coder/' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'loopback port the service listens on' },
    exact: { type: 'boolean', description: 'match the path exactly (nginx `location =`)' },
    websocket: { type: 'boolean', description: 'pass WebSocket upgrades and keep long-lived connections' },
    upstream: { type: 'string', pattern: '^/', description: 'path on the service (default: strip the public prefix)' },
    keepPrefix: { type: 'boolean', description: 'forward the full public path (the service knows its base URL)' },
  },
};
const program = {
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: {
    command: { type: 'string', minLength: 1 },
    user: { type: 'string', description: 'run as this user (default root); ${USERNAME} is the image user' },
    directory: { type: 'string' },
    priority: { type: 'integer', minimum: 0, maximum: 999 },
    environment: envMap,
    stopasgroup: { type: 'boolean' },
  },
};
const service = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    routes: { type: 'array', items: route },
    programs: { type: 'object', propertyNames: { pattern: '^[a-z0-9][a-z0-9-]*$' }, additionalProperties: program },
    check: { enum: ['http', 'coder', 'jupyter', 'vnc', 'ssh', 'dind', 'none'], description: 'what `idekube test` checks' },
  },
};

export const flavorSchema = {
  $id: 'https://idekube.dev/schema/flavor.json',
  title: 'idekube flavor manifest (flavors/<flavor>/<variant>/flavor.yaml)',
  type: 'object',
  additionalProperties: false,
  required: ['from'],
  properties: {
    description: { type: 'string' },
    from: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      description: 'exactly one of: image (a base image reference, may use ${ARG}) or parent (another flavor, e.g. featured/base)',
      properties: {
        image: { type: 'string', minLength: 1 },
        parent: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$' },
      },
    },
    platforms: platformList,
    layers: { type: 'array', items: name, uniqueItems: true },
    args: argMap,
    env: envMap,
    labels: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const layerSchema = {
  $id: 'https://idekube.dev/schema/layer.json',
  title: 'idekube layer (flavors/layers/<layer>.yaml)',
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    run: { type: 'string', pattern: '^[A-Za-z0-9._/-]+$', description: 'script in artifacts/layers/<layer>/ run as root during the build' },
    copy: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['src', 'dest'],
        properties: { src: { type: 'string' }, dest: { type: 'string', pattern: '^/' }, chown: { type: 'string' } },
      },
    },
    copyFrom: {
      type: 'object',
      additionalProperties: false,
      required: ['image', 'src', 'dest'],
      properties: { image: { type: 'string' }, src: { type: 'string', pattern: '^/' }, dest: { type: 'string', pattern: '^/' } },
    },
    args: argMap,
    env: envMap,
    platforms: platformList,
    services: { type: 'object', propertyNames: { pattern: '^[a-z0-9][a-z0-9-]*$' }, additionalProperties: service },
    after: { type: 'array', items: name, uniqueItems: true, description: 'when these layers are in the flavor, they come first' },
    requires: { type: 'array', items: name, uniqueItems: true, description: 'these layers must come earlier (here or in a parent)' },
    last: { type: 'boolean', description: 'must be the last layers of a flavor (overlays)' },
  },
} as const;
