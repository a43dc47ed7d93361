/**
 * Where settings and build args come from, lowest precedence first:
 *   layer defaults < flavor manifest defaults < .dockerargs < .dockerargs.<profile>
 *   < flavors/<f>/<v>/.dockerargs < environment < flags (--set, --registry, …)
 * Every value keeps its origin so `idekube config` can say where it came from.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARG_KEY, parseDockerargs, type ArgEntry } from './dockerargs.js';
import { InputError, throwCollected } from './errors.js';
import { byCodeUnit } from './order.js';

export type Origin =
  | { kind: 'default'; what: string }
  | { kind: 'layer'; layer: string; file: string; line?: number }
  | { kind: 'flavor'; file: string; line?: number }
  | { kind: 'file'; file: string; line: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; flag: string };

export function describeOrigin(o: Origin): string {
  switch (o.kind) {
    case 'default':
      return `default (${o.what})`;
    case 'layer':
      return `${o.file}${o.line ? `:${o.line}` : ''} (layer ${o.layer})`;
    case 'flavor':
      return `${o.file}${o.line ? `:${o.line}` : ''}`;
    case 'file':
      return `${o.file}:${o.line}`;
    case 'env':
      return `env ${o.name}`;
    case 'flag':
      return `flag ${o.flag}`;
  }
}

export interface Valued {
  value: string;
  origin: Origin;
}

/** Keys that name the image rather than feed a Dockerfile. They may appear in .dockerargs (upstream keeps TAG_POSTFIX there). */
export const SETTING_KEYS = ['REGISTRY', 'AUTHOR', 'NAME', 'GIT_TAG', 'TAG_POSTFIX'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
export const SETTING_DEFAULTS: Record<SettingKey, string | undefined> = {
  REGISTRY: 'docker.io',
  AUTHOR: 'davidliyutong',
  NAME: 'idekube-container',
  GIT_TAG: undefined,
  TAG_POSTFIX: '',
};

/** Environment variables idekube reads (documented in the README). */
export const ENV_ARG_PREFIX = 'IDEKUBE_ARG_';

export interface ProjectInputs {
  root: string;
  profile?: string;
  /** `--set KEY=VALUE`, in order given. */
  sets: string[];
  flags: Partial<Record<SettingKey, string>>;
  env: NodeJS.ProcessEnv;
}

export interface Layered {
  /** Root .dockerargs (may be absent). */
  base: ArgEntry[];
  profile?: { name: string; file: string; entries: ArgEntry[] };
  env: Array<{ key: string; value: string; name: string }>;
  sets: Array<{ key: string; value: string }>;
  flags: Partial<Record<SettingKey, string>>;
  /** Resolved naming settings (REGISTRY…), with origins. */
  settings: Record<SettingKey, Valued | undefined>;
}

export function readArgsFile(root: string, rel: string): ArgEntry[] {
  const path = join(root, rel);
  if (!existsSync(path)) return [];
  return parseDockerargs(readFileSync(path, 'utf8'), rel);
}

export function availableProfiles(root: string): string[] {
  return readdirSync(root)
    .filter((f) => f.startsWith('.dockerargs.'))
    .map((f) => f.slice('.dockerargs.'.length))
    .sort();
}

const PROFILE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function readLayered(inputs: ProjectInputs): Layered {
  const errors: InputError[] = [];
  const tryRead = (rel: string): ArgEntry[] => {
    try {
      return readArgsFile(inputs.root, rel);
    } catch (e) {
      if (e instanceof InputError) errors.push(...('errors' in e ? (e as any).errors : [e]));
      else throw e;
      return [];
    }
  };
  const base = tryRead('.dockerargs');
  let profile: Layered['profile'];
  const profileName = inputs.profile ?? emptyToUndefined(inputs.env.IDEKUBE_PROFILE);
  if (profileName !== undefined) {
    const via = inputs.profile !== undefined ? '--profile' : 'IDEKUBE_PROFILE';
    const file = `.dockerargs.${profileName}`;
    if (!PROFILE.test(profileName) || !existsSync(join(inputs.root, file))) {
      const have = availableProfiles(inputs.root);
      errors.push(new InputError(`unknown profile ${JSON.stringify(profileName)} (from ${via}): ${file} does not exist`, undefined, have.length ? `use one of: ${have.join(', ')}` : `create ${file} next to .dockerargs`));
    } else {
      profile = { name: profileName, file, entries: tryRead(file) };
    }
  }
  const env: Layered['env'] = [];
  for (const [name, value] of Object.entries(inputs.env).sort(([a], [b]) => byCodeUnit(a, b))) {
    if (!name.startsWith(ENV_ARG_PREFIX) || value === undefined) continue;
    const key = name.slice(ENV_ARG_PREFIX.length);
    if (!ARG_KEY.test(key)) {
      errors.push(new InputError(`environment variable ${name}: ${JSON.stringify(key)} is not a valid build-arg name`, undefined, `rename it to ${ENV_ARG_PREFIX}<KEY> with KEY made of letters, digits and _`));
      continue;
    }
    env.push({ key, value, name });
  }
  const sets: Layered['sets'] = [];
  for (const s of inputs.sets) {
    const eq = s.indexOf('=');
    const key = eq < 0 ? s : s.slice(0, eq);
    if (eq < 0 || !ARG_KEY.test(key)) {
      errors.push(new InputError(`--set ${JSON.stringify(s)}: expected KEY=VALUE with KEY made of letters, digits and _`, undefined, 'e.g. --set CODER_VERSION=4.92.2'));
      continue;
    }
    sets.push({ key, value: s.slice(eq + 1) });
  }
  throwCollected(errors);
  const settings = {} as Layered['settings'];
  for (const key of SETTING_KEYS) {
    let v: Valued | undefined = SETTING_DEFAULTS[key] !== undefined ? { value: SETTING_DEFAULTS[key]!, origin: { kind: 'default', what: 'idekube' } } : undefined;
    const fromFile = (entries: ArgEntry[]) => entries.find((e) => e.key === key);
    for (const e of [fromFile(base), profile ? fromFile(profile.entries) : undefined]) {
      if (e) v = { value: e.value, origin: { kind: 'file', file: e.file, line: e.line } };
    }
    const envValue = inputs.env[key];
    // An empty variable counts as unset (CI systems often define empty variables), except TAG_POSTFIX where empty is a value.
    if (envValue !== undefined && (envValue !== '' || key === 'TAG_POSTFIX')) v = { value: envValue, origin: { kind: 'env', name: key } };
    const set = [...sets].reverse().find((s) => s.key === key);
    if (set) v = { value: set.value, origin: { kind: 'flag', flag: `--set ${key}` } };
    const flag = inputs.flags[key];
    if (flag !== undefined) v = { value: flag, origin: { kind: 'flag', flag: `--${key.toLowerCase().replace('_', '-')}` } };
    settings[key] = v;
  }
  return { base, ...(profile ? { profile } : {}), env, sets, flags: inputs.flags, settings };
}

function emptyToUndefined(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
