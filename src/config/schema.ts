/**
 * JSON Schemas of the two declarative files a contributor writes:
 *   flavors/<flavor>/<variant>/flavor.yaml   (a flavor: where it starts, which layers it adds)
 *   flavors/layers/<layer>.yaml              (a layer: one install step, the args it reads, the services it brings)
 * `idekube schema flavor|layer` prints them for editors (yaml-language-server).
 */
import { PLATFORMS } from './platform.js';

/**
 * Rules for every manifest string that reaches a generated file (Dockerfile, nginx, supervisord), by kind. Each is a
 * JSON Schema `pattern` (so `idekube schema` documents it and ajv enforces it) plus the words that say what is wrong
 * and how to fix it. The generators check the same rules again (src/generate/quote.ts), so a value that bypasses the
 * schema still cannot break out of its line.
 */
export interface Rule {
  /** What the value is, in messages: "image reference". */
  title: string;
  /** ECMAScript pattern (ajv compiles it with the `u` flag). */
  pattern: string;
  /** What a valid value looks like (the fix of an error; also the schema description). */
  fix: string;
  /** Tab allowed (values only; never in names, paths or commands). */
  tab?: boolean;
  /** Specific problems, tested in order after control characters: the first that matches explains the error. */
  problems?: Array<[RegExp, string]>;
  /** One character that may appear (used to name the first one that may not). */
  char?: RegExp;
}

// Control characters: C0, DEL, C1, and the Unicode line/paragraph separators.
const CTRL = '\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029';
const CTRL_BUT_TAB = '\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f\\u2028\\u2029';
const NO_DOTDOT = '(?!(?:.*/)?\\.\\.(?:/|$))';
const DOTDOT = /(?:^|\/)\.\.(?:\/|$)/;
const ARG_REF = '\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}|\\$[A-Za-z_][A-Za-z0-9_]*';
const COMMENT = /\s[;#]/;
const commentProblem: [RegExp, string] = [
  COMMENT,
  "has a space before ; or #, where supervisord's config parser starts a comment and cuts the line",
];

export const RULES = {
  imageRef: {
    title: 'image reference',
    pattern: `^(?![-.])(?:[A-Za-z0-9._:/@-]|${ARG_REF})+$`,
    fix: 'an image reference such as ubuntu:24.04 or registry.example.com/team/image:tag: letters, digits, . _ - : / @ and ${ARG} references',
    problems: [
      [/^-/, 'starts with -, which the engine would read as a flag'],
      [/^\./, 'starts with .'],
      [/\$(?!\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_])/, 'has a $ that is not a ${ARG} reference'],
    ],
    char: /[A-Za-z0-9._:/@${}-]/,
  },
  layerScript: {
    title: 'script path',
    pattern: `^(?!/)${NO_DOTDOT}[A-Za-z0-9._/-]+$`,
    fix: 'a script inside artifacts/layers/<layer>/, e.g. install.sh: a relative path of letters, digits, . _ - and /, without .. segments',
    problems: [
      [/^\//, 'is an absolute path; it must be relative to artifacts/layers/<layer>/'],
      [DOTDOT, 'has a .. segment, which would leave the layer folder'],
    ],
    char: /[A-Za-z0-9._/-]/,
  },
  layerPath: {
    title: 'layer path',
    pattern: `^(?!/)${NO_DOTDOT}[^${CTRL}$\\\\]+$`,
    fix: 'a path inside artifacts/layers/<layer>/, e.g. rootfs/: relative, without .. segments, $ or \\ (spaces are fine)',
    problems: [
      [/^\//, 'is an absolute path; it must be relative to artifacts/layers/<layer>/'],
      [DOTDOT, 'has a .. segment, which would leave the layer folder'],
      [/\$/, 'has a $, which the Dockerfile would expand as a variable'],
      [/\\/, 'has a \\, the Dockerfile escape character'],
    ],
  },
  imagePath: {
    title: 'path in the image',
    pattern: `^/${NO_DOTDOT}[^${CTRL}$\\\\]*$`,
    fix: 'an absolute path in the image, e.g. /opt/tool/: starts with /, without .. segments, $ or \\ (spaces are fine)',
    problems: [
      [/^(?!\/)/, 'is not an absolute path (it must start with /)'],
      [DOTDOT, 'has a .. segment'],
      [/\$/, 'has a $, which the Dockerfile would expand as a variable'],
      [/\\/, 'has a \\, the Dockerfile escape character'],
    ],
  },
  chown: {
    title: 'owner',
    pattern: '^(?:[A-Za-z_][A-Za-z0-9_.-]*|[0-9]+)(?::(?:[A-Za-z_][A-Za-z0-9_.-]*|[0-9]+))?$',
    fix: 'user, user:group, uid or uid:gid (names of letters, digits, _ . -)',
    char: /[A-Za-z0-9_.:-]/,
  },
  labelKey: {
    title: 'label key',
    pattern: '^(?!io\\.idekube\\.)[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$',
    fix: 'a key such as org.example.team: letters, digits, . _ and -, starting and ending with a letter or digit; io.idekube.* is reserved',
    problems: [[/^io\.idekube\./, "is reserved for idekube's own labels"]],
    char: /[A-Za-z0-9._-]/,
  },
  name: {
    title: 'name',
    pattern: '^[a-z0-9][a-z0-9-]*$',
    fix: 'names are lower-case letters, digits and -, starting with a letter or digit',
    char: /[a-z0-9-]/,
  },
  envName: {
    title: 'variable name',
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    fix: 'names are letters, digits and _, not starting with a digit',
    char: /[A-Za-z0-9_]/,
  },
  value: {
    title: 'value',
    pattern: `^[^${CTRL_BUT_TAB}]*$`,
    fix: 'one line of text without control characters (tabs are fine)',
    tab: true,
  },
  programValue: {
    title: 'value',
    pattern: `^(?!.*\\s[;#])[^${CTRL_BUT_TAB}]*$`,
    fix: "one line of text without control characters (tabs are fine) and without a space before ; or # (supervisord's comment marks)",
    tab: true,
    problems: [commentProblem],
  },
  user: {
    title: 'user',
    pattern: '^(?:[a-z_][a-z0-9_-]{0,31}\\$?|[0-9]+|\\$\\{USERNAME\\})$',
    fix: 'a user name (lower-case letters, digits, _ and -), a uid, or ${USERNAME} for the image user',
    char: /[a-z0-9_$-]/,
  },
  command: {
    title: 'command',
    pattern: `^(?!.*\\s[;#])[^${CTRL}]+$`,
    fix: 'one line, without control characters and without a space before ; or # (put anything more complex in a script); % is literal',
    problems: [commentProblem],
  },
  directory: {
    title: 'directory',
    pattern: `^/(?!.*\\s[;#])[^${CTRL}]*$`,
    fix: 'an absolute path in the image, one line, without a space before ; or #',
    problems: [[/^(?!\/)/, 'is not an absolute path (it must start with /)'], commentProblem],
  },
  urlPath: {
    title: 'URL path',
    pattern: '^/[A-Za-z0-9._~/-]*$',
    fix: 'a path such as /coder/: starts with /, then letters, digits, . _ ~ - and /',
    problems: [[/^(?!\/)/, 'does not start with /']],
    char: /[A-Za-z0-9._~/-]/,
  },
} satisfies Record<string, Rule>;

const CONTROL_NAMES: Record<string, string> = {
  '\0': 'a NUL character',
  '\n': 'a newline',
  '\r': 'a carriage return',
  '\t': 'a tab',
  '\u2028': 'a line separator (U+2028)',
  '\u2029': 'a paragraph separator (U+2029)',
};
const CONTROL = new RegExp(`[${CTRL}]`, 'u');
const compiledRules = new Map<Rule, RegExp>();

/** "a newline", "a NUL character", "control character U+001B" */
export function describeChar(c: string): string {
  if (CONTROL_NAMES[c]) return CONTROL_NAMES[c]!;
  const code = c.codePointAt(0)!;
  if (CONTROL.test(c)) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(c);
}

/** Why `value` breaks `rule`, or undefined when it is fine. */
export function ruleProblem(rule: Rule, value: string): string | undefined {
  let re = compiledRules.get(rule);
  if (!re) compiledRules.set(rule, (re = new RegExp(rule.pattern, 'u')));
  for (const c of value) {
    if (CONTROL.test(c) && !(rule.tab && c === '\t')) return `contains ${describeChar(c)}`;
  }
  if (re.test(value)) return undefined;
  if (value === '') return 'is empty';
  for (const [p, why] of rule.problems ?? []) if (p.test(value)) return why;
  if (rule.char) for (const c of value) if (!rule.char.test(c)) return `contains ${describeChar(c)}`;
  return `is not a valid ${rule.title}`;
}

/** The rule whose pattern this is (how schema errors find their words). */
export function ruleForPattern(pattern: string): Rule | undefined {
  return Object.values(RULES).find((r) => r.pattern === pattern);
}

/** A value for a message: JSON-quoted, at most ~80 characters. */
export function preview(v: unknown): string {
  if (typeof v !== 'string') return JSON.stringify(v) ?? String(v);
  const chars = [...v];
  if (chars.length <= 80) return JSON.stringify(v);
  return `${JSON.stringify(chars.slice(0, 60).join(''))}… (${chars.length} characters)`;
}

const rule = (r: Rule, description?: string) => ({
  type: 'string',
  pattern: r.pattern,
  description: description ? `${description}; ${r.fix}` : r.fix,
});

const name = { type: 'string', pattern: RULES.name.pattern };
const nameKeys = { pattern: RULES.name.pattern, description: RULES.name.fix };
const numberNote = 'a number or boolean is taken as written only when YAML keeps its text (quote 1.10, 0x10, 1e5, True)';
const argMap = {
  type: 'object',
  propertyNames: { pattern: RULES.envName.pattern, description: RULES.envName.fix },
  additionalProperties: {
    type: ['string', 'number', 'boolean', 'null'],
    pattern: RULES.value.pattern,
    description: `${RULES.value.fix}; null: no default; ${numberNote}`,
  },
};
/** An environment map: variable names as keys, values matching `value` (manifest env, or a program's). */
function envOf(value: { pattern: string; fix: string }) {
  return {
    type: 'object',
    propertyNames: { pattern: RULES.envName.pattern, description: RULES.envName.fix },
    additionalProperties: { type: ['string', 'number', 'boolean'], pattern: value.pattern, description: `${value.fix}; ${numberNote}` },
  };
}
const envMap = envOf(RULES.value);
const platformList = { type: 'array', items: { enum: [...PLATFORMS] }, minItems: 1, uniqueItems: true };

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'port'],
  properties: {
    path: rule(RULES.urlPath, 'public path behind nginx, e.g. /coder/'),
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'loopback port the service listens on' },
    exact: { type: 'boolean', description: 'match the path exactly (nginx `location =`)' },
    websocket: { type: 'boolean', description: 'pass WebSocket upgrades and keep long-lived connections' },
    upstream: rule(RULES.urlPath, 'path on the service (default: strip the public prefix)'),
    keepPrefix: { type: 'boolean', description: 'forward the full public path (the service knows its base URL)' },
    open: {
      type: 'boolean',
      description: 'reachable without IDEKUBE_ACCESS_TOKEN: only for a service that authenticates on its own (SSH with keys)',
    },
  },
};
const program = {
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: {
    command: rule(RULES.command, 'the command line supervisord runs'),
    user: rule(RULES.user, 'run as this user (default root)'),
    directory: rule(RULES.directory, 'working directory'),
    priority: { type: 'integer', minimum: 0, maximum: 999 },
    environment: envOf(RULES.programValue),
    stopasgroup: { type: 'boolean' },
  },
};
const service = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    routes: { type: 'array', items: route },
    programs: { type: 'object', propertyNames: nameKeys, additionalProperties: program },
    check: { enum: ['http', 'coder', 'jupyter', 'vnc', 'ssh', 'dind', 'terminal', 'none'], description: 'what `idekube test` checks' },
    main: {
      type: 'boolean',
      description:
        "the flavor's main service: /health answers 502 when it is down (the last one declared in the flavor wins; default: the first service with a route)",
    },
  },
};

export const flavorSchema = {
  $id: 'https://idekube.dev/schema/flavor.json',
  title: 'idekube flavor manifest (flavors/<flavor>/<variant>/flavor.yaml)',
  description: 'No value may hold control characters other than tabs and (in descriptions) newlines.',
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
        image: rule(RULES.imageRef, 'the base image'),
        parent: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$' },
      },
    },
    platforms: platformList,
    layers: { type: 'array', items: name, uniqueItems: true },
    args: argMap,
    env: envMap,
    labels: {
      type: 'object',
      propertyNames: { pattern: RULES.labelKey.pattern, description: RULES.labelKey.fix },
      additionalProperties: { type: 'string', pattern: RULES.value.pattern, description: RULES.value.fix },
    },
  },
} as const;

export const layerSchema = {
  $id: 'https://idekube.dev/schema/layer.json',
  title: 'idekube layer (flavors/layers/<layer>.yaml)',
  description: 'No value may hold control characters other than tabs and (in descriptions) newlines.',
  type: 'object',
  additionalProperties: false,
  allOf: [
    {
      description: 'a layer must do something: give it run:, copy:, copyFrom:, env: or services:',
      anyOf: [
        { required: ['run'] },
        { required: ['copy'], properties: { copy: { minItems: 1 } } },
        { required: ['copyFrom'] },
        { required: ['env'], properties: { env: { minProperties: 1 } } },
        { required: ['services'], properties: { services: { minProperties: 1 } } },
      ],
    },
  ],
  properties: {
    description: { type: 'string' },
    run: rule(RULES.layerScript, 'script in artifacts/layers/<layer>/ run as root during the build'),
    copy: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['src', 'dest'],
        properties: {
          src: rule(RULES.layerPath, 'file or folder in artifacts/layers/<layer>/'),
          dest: rule(RULES.imagePath, 'where it goes in the image'),
          chown: rule(RULES.chown, 'owner of the copied files'),
        },
      },
    },
    copyFrom: {
      type: 'object',
      additionalProperties: false,
      required: ['image', 'src', 'dest'],
      properties: {
        image: rule(RULES.imageRef, 'the image to copy from'),
        src: rule(RULES.imagePath, 'path in that image'),
        dest: rule(RULES.imagePath, 'where it goes in this image'),
      },
    },
    args: argMap,
    env: envMap,
    platforms: platformList,
    services: { type: 'object', propertyNames: nameKeys, additionalProperties: service },
    commands: {
      type: 'object',
      propertyNames: nameKeys,
      description:
        'commands the layer installs, each run by `idekube test` in the web terminal as the user: it must exit 0 (and print `expect`, when given); ${ARG} is replaced by the build arg',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['run'],
        properties: {
          run: { type: 'string', pattern: `^[^${CTRL}]+$`, description: 'one line typed into the terminal, e.g. claude --version' },
          expect: {
            type: 'string',
            minLength: 1,
            pattern: RULES.value.pattern,
            description: 'text the output must contain, e.g. ${CLAUDE_CODE_VERSION}',
          },
        },
      },
    },
    after: { type: 'array', items: name, uniqueItems: true, description: 'when these layers are in the flavor, they come first' },
    requires: { type: 'array', items: name, uniqueItems: true, description: 'these layers must come earlier (here or in a parent)' },
    last: { type: 'boolean', description: 'must be the last layers of a flavor (overlays)' },
  },
} as const;
