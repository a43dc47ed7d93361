/**
 * Where settings and build args come from, lowest precedence first:
 *   layer defaults < flavor manifest defaults < .dockerargs < .dockerargs.<profile>
 *   < flavors/<f>/<v>/.dockerargs < environment < flags (--set, --registry, …)
 * Every value keeps its origin so `idekube config` can say where it came from.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  type Stats,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ARG_KEY, parseDockerargs, type ArgEntry } from './dockerargs.js';
import { ErrorList, InputError, listSome, quoteShort } from './errors.js';
import { fileCandidates, lookupLayered, type Candidate, type Valued } from './layered.js';
import { byCodeUnit } from './order.js';

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

/** Larger than any real settings file; a bigger one is refused before it is read. */
export const MAX_ARGS_FILE_BYTES = 16 * 1024 * 1024;

/** Whether `rel` exists as a directory entry (a dangling link counts: reading it then says what is wrong). */
export function argsFilePresent(root: string, rel: string): boolean {
  try {
    lstatSync(join(root, rel));
    return true;
  } catch {
    return false;
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function inside(dir: string, p: string): boolean {
  const r = relative(dir, p);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/**
 * Reads a KEY=VALUE file of the project (absent: no entries). It must be a regular file inside the project: a
 * folder, FIFO or device, a link that leads outside the project or nowhere, an unreadable or oversized file is an
 * input error naming it (exit 2), and nothing of its content is repeated unless it parses as KEY=VALUE lines.
 */
export function readArgsFile(root: string, rel: string): ArgEntry[] {
  const path = join(root, rel);
  const at = { file: rel };
  let lst: Stats;
  try {
    lst = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new InputError(`cannot be read (${code ?? 'error'})`, at, 'make it a readable file of KEY=VALUE lines, or remove it');
  }
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    let target = '';
    try {
      target = ` to ${readlinkSync(path)}`;
    } catch {
      /* not a link itself: a folder above it is */
    }
    throw new InputError(`a symbolic link${target}, which does not exist`, at, 'fix the link, or remove it');
  }
  let realRoot = root;
  try {
    realRoot = realpathSync(root);
  } catch {
    /* the root was readable a moment ago; compare as written */
  }
  if (!inside(realRoot, real)) {
    throw new InputError(
      lst.isSymbolicLink()
        ? `a symbolic link to a file outside the project (${real}): refused`
        : `outside the project (a folder on its path is a link to ${dirname(real)}): refused`,
      at,
      `idekube reads settings only from inside the project: replace the link with a file (or a link to one in ${root})`,
    );
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the check fails instead of hanging; O_NOFOLLOW: no link is followed now
    fd = openSync(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'error');
    throw new InputError(
      `cannot be read: ${why}`,
      at,
      code === 'EACCES' ? `make it readable (chmod u+r ${rel}), or remove it` : 'make it a readable file of KEY=VALUE lines, or remove it',
    );
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new InputError(`${kindOf(st)}, not a file of KEY=VALUE lines`, at, `remove it, or replace it with a file of KEY=VALUE lines`);
    }
    if (st.size > MAX_ARGS_FILE_BYTES) {
      throw new InputError(
        `${(st.size / 2 ** 20).toFixed(1)} MiB; a settings file is at most ${MAX_ARGS_FILE_BYTES / 2 ** 20} MiB`,
        at,
        'is it the right file? settings files hold a few KEY=VALUE lines',
      );
    }
    try {
      text = readFileSync(fd, 'utf8');
    } catch (e) {
      throw new InputError(
        `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        at,
        'make it a readable file of KEY=VALUE lines, or remove it',
      );
    }
  } finally {
    closeSync(fd);
  }
  return parseDockerargs(text, rel);
}

export function availableProfiles(root: string): string[] {
  return readdirSync(root)
    .filter((f) => f.startsWith('.dockerargs.'))
    .map((f) => f.slice('.dockerargs.'.length))
    .sort();
}

const PROFILE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function readLayered(inputs: ProjectInputs): Layered {
  const errors = new ErrorList();
  const tryRead = (rel: string): ArgEntry[] => errors.collect(() => readArgsFile(inputs.root, rel)) ?? [];
  const base = tryRead('.dockerargs');
  let profile: Layered['profile'];
  const profileName = inputs.profile ?? emptyToUndefined(inputs.env.IDEKUBE_PROFILE);
  if (profileName !== undefined) {
    const via = inputs.profile !== undefined ? '--profile' : 'IDEKUBE_PROFILE';
    const file = `.dockerargs.${profileName}`;
    if (!PROFILE.test(profileName) || !argsFilePresent(inputs.root, file)) {
      const have = availableProfiles(inputs.root);
      const shownFile = PROFILE.test(profileName) && profileName.length <= 100 ? file : '.dockerargs.<profile>';
      errors.add(
        new InputError(
          `unknown profile ${quoteShort(profileName)} (from ${via}): ${shownFile} does not exist`,
          undefined,
          have.length ? `use one of: ${listSome(have)}` : `create ${shownFile} next to .dockerargs`,
        ),
      );
    } else {
      profile = { name: profileName, file, entries: tryRead(file) };
    }
  }
  const env: Layered['env'] = [];
  for (const [name, value] of Object.entries(inputs.env).sort(([a], [b]) => byCodeUnit(a, b))) {
    if (!name.startsWith(ENV_ARG_PREFIX) || value === undefined) continue;
    const key = name.slice(ENV_ARG_PREFIX.length);
    if (!ARG_KEY.test(key)) {
      errors.add(
        new InputError(
          `environment variable ${name.length <= 80 ? name : `${name.slice(0, 80)}…`}: ${quoteShort(key)} is not a valid build-arg name`,
          undefined,
          `rename it to ${ENV_ARG_PREFIX}<KEY> with KEY made of letters, digits and _`,
        ),
      );
      continue;
    }
    env.push({ key, value, name });
  }
  const sets: Layered['sets'] = [];
  for (const s of inputs.sets) {
    const eq = s.indexOf('=');
    const key = eq < 0 ? s : s.slice(0, eq);
    if (eq < 0 || !ARG_KEY.test(key)) {
      errors.add(
        new InputError(
          `--set ${quoteShort(s)}: expected KEY=VALUE with KEY made of letters, digits and _`,
          undefined,
          'e.g. --set CODER_VERSION=4.92.2',
        ),
      );
      continue;
    }
    sets.push({ key, value: s.slice(eq + 1) });
  }
  errors.throwIfAny();
  const settings = {} as Layered['settings'];
  for (const key of SETTING_KEYS) {
    const found = lookupLayered(settingCandidates(key, { base, ...(profile ? { profile } : {}), sets }, inputs), key);
    settings[key] = found && { value: found.value, origin: found.origin };
  }
  return { base, ...(profile ? { profile } : {}), env, sets, flags: inputs.flags, settings };
}

/**
 * The build-arg ladder, lowest precedence first: .dockerargs < .dockerargs.<profile> < flavors/<f>/<v>/.dockerargs
 * (`flavorEntries`) < IDEKUBE_ARG_<KEY> < --set KEY=VALUE.
 */
export function argCandidates(
  layered: Pick<Layered, 'base' | 'profile' | 'env' | 'sets'>,
  flavorEntries: readonly ArgEntry[] = [],
): Candidate[] {
  return [
    ...fileCandidates(layered.base),
    ...fileCandidates(layered.profile?.entries ?? []),
    ...fileCandidates(flavorEntries),
    ...layered.env.map((e): Candidate => ({ key: e.key, value: e.value, origin: { kind: 'env', name: e.name } })),
    ...setCandidates(layered.sets),
  ];
}

/**
 * The ladder of a naming setting (REGISTRY…), lowest precedence first: idekube's default < .dockerargs
 * < .dockerargs.<profile> < the variable KEY < --set KEY=VALUE < its own flag (--registry…).
 */
function settingCandidates(key: SettingKey, files: Pick<Layered, 'base' | 'profile' | 'sets'>, inputs: ProjectInputs): Candidate[] {
  const fallback = SETTING_DEFAULTS[key];
  const envValue = inputs.env[key];
  const flag = inputs.flags[key];
  return [
    ...(fallback !== undefined ? [{ key, value: fallback, origin: { kind: 'default', what: 'idekube' } } satisfies Candidate] : []),
    ...fileCandidates(files.base),
    ...fileCandidates(files.profile?.entries ?? []),
    // An empty variable counts as unset (CI systems often define empty variables), except TAG_POSTFIX where empty is a value.
    ...(envValue !== undefined && (envValue !== '' || key === 'TAG_POSTFIX')
      ? [{ key, value: envValue, origin: { kind: 'env', name: key } } satisfies Candidate]
      : []),
    ...setCandidates(files.sets),
    ...(flag !== undefined
      ? [{ key, value: flag, origin: { kind: 'flag', flag: `--${key.toLowerCase().replace('_', '-')}` } } satisfies Candidate]
      : []),
  ];
}

function setCandidates(sets: Layered['sets']): Candidate[] {
  return sets.map((s) => ({ key: s.key, value: s.value, origin: { kind: 'flag', flag: `--set ${s.key}` } }));
}

function emptyToUndefined(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
