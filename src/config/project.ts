/** One loaded project: the catalog, the layered settings and the image naming, validated together. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadCatalog, platformsOf } from './catalog.js';
import { shortKey, type ArgEntry } from './dockerargs.js';
import { InputError, listSome, quoteShort, type Location } from './errors.js';
import { isOneOf } from './guards.js';
import { IDEKUBE_KEYS } from './known-keys.js';
import type { Catalog, FlavorDef, LayerDef, Platform } from './model.js';
import { v08NamingProblem } from './naming-v08.js';
import { argRefs } from './resolve.js';
import { resolveScheme, type Scheme } from './schemes.js';
import { describeOrigin, type Valued } from './layered.js';
import { SETTING_KEYS, readArgsFile, readLayered, type Layered, type ProjectInputs, type SettingKey } from './sources.js';
import { MAX_TAG_LENGTH, TAG_RULE, isPathComponent, isRegistryHost, tagProblem } from './image-ref.js';
import { cacheTag, flavorTag, repository, type ImageNaming } from './tags.js';
import { closest, warn } from './warnings.js';
import { resolveGitVersion, type GitVersion } from './version.js';

export interface Project {
  root: string;
  catalog: Catalog;
  layered: Layered;
  version: GitVersion;
  naming: ImageNaming;
  /** The tag scheme and where it came from (`--scheme`, env, `.dockerargs:N`, `default`). */
  scheme: Scheme;
  schemeFrom: string;
}

/** What the command line adds to the layered settings: the tag scheme flag and `--staging`. */
export interface NamingInputs {
  scheme?: string;
  staging?: boolean;
}

/** The nearest folder at or above `start` that holds flavors/. */
export function findRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'flavors'))) return dir;
    if (dirname(dir) === dir) {
      throw new InputError(
        `no idekube project (a folder with flavors/) at or above ${resolve(start)}`,
        undefined,
        'run idekube inside a project, or pass -C <dir>',
      );
    }
  }
}

/** The project folder: -C's, checked, or the nearest one above the working folder. */
export function projectRoot(inputs: { dir?: string }): string {
  const root = inputs.dir ? resolve(inputs.dir) : findRoot(process.cwd());
  if (inputs.dir && !existsSync(join(root, 'flavors'))) {
    throw new InputError(
      `-C ${inputs.dir}: no flavors/ folder in ${root}`,
      undefined,
      'point -C at the project root (the folder holding flavors/ and .dockerargs)',
    );
  }
  return root;
}

export function loadProject(inputs: Omit<ProjectInputs, 'root'> & { dir?: string } & NamingInputs): Project {
  const root = projectRoot(inputs);
  const layered = readLayered({ ...inputs, root });
  const { scheme, from: schemeFrom } = resolveScheme(inputs.scheme, inputs.env, layered.base, layered.profile);
  const catalog = loadCatalog(root);
  warnUnreadKeys(catalog, layered);
  const s = layered.settings;
  // Version and naming need git: computed on first use, so `list` and `config` never spawn it.
  let version: GitVersion | undefined;
  let naming: ImageNaming | undefined;
  const project = {
    root,
    catalog,
    layered,
    scheme,
    schemeFrom,
    get version(): GitVersion {
      const gitTagSetting = s.GIT_TAG;
      version ??= resolveGitVersion(
        root,
        gitTagSetting
          ? { value: gitTagSetting.value, from: describeOrigin(gitTagSetting.origin), ...locationOf(gitTagSetting) }
          : undefined,
      );
      return version;
    },
    get naming(): ImageNaming {
      if (!naming) {
        const gitTag = project.version.gitTag;
        // upstream stages with VERSION=edge: that version is always a staging build
        const staging = Boolean(inputs.staging) || gitTag === 'edge';
        const n: ImageNaming = {
          registry: s.REGISTRY!.value,
          author: s.AUTHOR!.value,
          name: s.NAME!.value,
          gitTag,
          postfix: s.TAG_POSTFIX?.value ?? '',
          ...(scheme !== 'v0.4' ? { scheme } : {}),
          ...(staging ? { staging } : {}),
        };
        checkNaming(n, layered, catalog, project.version);
        if (scheme === 'v0.8') {
          const problem = v08NamingProblem(n, catalog.flavors.values());
          if (problem) throw problem;
        }
        naming = n;
      }
      return naming;
    },
  };
  return project;
}

/** `{ location }` of a setting read from a file (errors then start with file:line). */
function locationOf(v: Valued | undefined): { location?: Location } {
  return v && v.origin.kind === 'file' ? { location: { file: v.origin.file, line: v.origin.line } } : {};
}

/**
 * Every part of every image reference idekube makes, checked once against the whole catalog, and each problem
 * reported against the setting that causes it (where it came from: file:line, env, flag) with the rule it breaks.
 * Tags: <flavor>-<variant>-<GIT_TAG><TAG_POSTFIX>-<arch> and buildcache-<flavor>-<variant><TAG_POSTFIX>-<arch>
 * (aliases are shorter than the per-arch tags); repositories: <REGISTRY>/<AUTHOR>/<NAME>[-qemu].
 */
function checkNaming(n: ImageNaming, layered: Layered, catalog: Catalog, version: GitVersion): void {
  const setting = (k: SettingKey) => layered.settings[k];
  const from = (k: SettingKey) => {
    const v = setting(k);
    return v ? describeOrigin(v.origin) : k === 'GIT_TAG' ? `git (${version.source})` : 'unset';
  };
  // `KEY "value" (from env KEY) …`; from a file, the message starts with its file:line instead
  const fail = (k: SettingKey, value: string, what: string, fix: string, shown = quoteShort(value)): never => {
    const location = locationOf(setting(k)).location;
    throw new InputError(`${k} ${shown}${location ? '' : ` (from ${from(k)})`} ${what}`, location, fix);
  };
  if (!isRegistryHost(n.registry)) {
    fail(
      'REGISTRY',
      n.registry,
      'is not a registry host: a host name or IP address, optionally with :port, and no path',
      'e.g. REGISTRY=docker.io or REGISTRY=registry.example.com:5000',
    );
  }
  for (const k of ['AUTHOR', 'NAME'] as const) {
    const value = k === 'AUTHOR' ? n.author : n.name;
    const bad = value.split('/').find((c) => !isPathComponent(c));
    if (bad !== undefined) {
      const part = value.includes('/') ? ` (its part ${quoteShort(bad)})` : '';
      fail(
        k,
        value,
        `is not a repository path${part}: lower-case letters and digits, with single . _ __ or - between them (and / between parts)`,
        `e.g. ${k}=${k === 'AUTHOR' ? 'davidliyutong' : 'idekube-container'}`,
      );
    }
  }
  const repo = repository(n, true);
  if (repo.length > 255) {
    const longest = (['REGISTRY', 'AUTHOR', 'NAME'] as const).reduce((a, b) =>
      (setting(a)?.value.length ?? 0) >= (setting(b)?.value.length ?? 0) ? a : b,
    );
    fail(
      longest,
      setting(longest)!.value,
      `makes the repository name ${repo.length} characters long (REGISTRY/AUTHOR/NAME-qemu); a repository name is at most 255`,
      `shorten ${longest}`,
    );
  }
  if (n.postfix !== '' && !/^[A-Za-z0-9_.-]+$/.test(n.postfix)) {
    fail('TAG_POSTFIX', n.postfix, 'may only hold letters, digits, _, . and -', 'e.g. TAG_POSTFIX=-ascend');
  }
  const gitProblem = tagProblem(n.gitTag);
  if (gitProblem) fail('GIT_TAG', n.gitTag, `is not a valid Docker tag part: ${gitProblem}`, `${TAG_RULE} (e.g. v1.2.3)`);
  // v0.8 derives repositories and tags from the folders in its own way (naming-v08.ts checks them)
  if (n.scheme === 'v0.8') return;
  // The longest flavor id gives the longest tags: one look at each id, whatever the size of the catalog.
  let longest: FlavorDef | undefined;
  for (const f of catalog.flavors.values()) if (!longest || f.id.length > longest.id.length) longest = f;
  if (!longest) return;
  const perArch = flavorTag(longest.id, n, 'amd64');
  const cache = cacheTag(longest.id, n, 'amd64');
  for (const [tag, kind] of [
    [perArch, 'tag'],
    [cache, 'registry-cache tag'],
  ] as const) {
    if (tag.length <= MAX_TAG_LENGTH) continue;
    const idPart = longest.id.length;
    const versionPart = kind === 'tag' ? n.gitTag.length + n.postfix.length : n.postfix.length;
    const over = tag.length - MAX_TAG_LENGTH;
    const detail = `makes the ${kind} of ${quoteShort(longest.id, 40, false)} ${tag.length} characters (${quoteShort(tag, 40, false)}); ${TAG_RULE}`;
    if (versionPart > idPart) {
      const k: SettingKey = kind === 'tag' && n.gitTag.length >= n.postfix.length ? 'GIT_TAG' : 'TAG_POSTFIX';
      const value = k === 'GIT_TAG' ? n.gitTag : n.postfix;
      fail(
        k,
        value,
        `is ${value.length} characters and ${detail}`,
        `use a ${k} at most ${Math.max(0, value.length - over)} characters long (the longest flavor name leaves that much)`,
        quoteShort(value, 40, false),
      );
    }
    throw new InputError(
      `the flavor folder name ${quoteShort(longest.id, 40, false)} is ${idPart} characters and ${detail.replace(/^makes the (.*?) of .*? (\d+) characters/, 'makes its $1 $2 characters')}`,
      { file: longest.file },
      `shorten the flavor and variant folder names to at most ${Math.max(1, idPart - over)} characters together (with the /)`,
    );
  }
}

/**
 * A key in .dockerargs (or the active profile, or a flavor's .dockerargs) that no layer, manifest or idekube setting
 * reads has no effect: usually a typo (CODER_VERISON). Warn, with the closest key that is read. Linear in the catalog.
 */
function warnUnreadKeys(catalog: Catalog, layered: Layered): void {
  const read = new Set<string>(IDEKUBE_KEYS);
  const layerKeys = (l: LayerDef) => {
    for (const k of Object.keys(l.args)) read.add(k);
    if (l.copyFrom) for (const k of argRefs(l.copyFrom.image)) read.add(k);
  };
  for (const l of catalog.layers.values()) layerKeys(l);
  for (const f of catalog.flavors.values()) {
    for (const k of Object.keys(f.args)) read.add(k);
    if ('image' in f.from) for (const k of argRefs(f.from.image)) read.add(k);
  }
  const files: ArgEntry[][] = [layered.base, layered.profile?.entries ?? []];
  // a flavor's own file is checked against the same project-wide set (one pass; a key there that only another
  // flavor reads is not flagged). Its naming keys are an error of their own (resolve.ts), not a warning.
  for (const f of catalog.flavors.values()) {
    if (f.argsFile) {
      const entries = readArgsFile(catalog.root, f.argsFile);
      files.push(entries.filter((e) => !isOneOf(SETTING_KEYS, e.key)));
    }
  }
  // the same for IDEKUBE_ARG_<KEY> and --set KEY=…: where it came from instead of file:line
  const given: Array<{ key: string; where?: { file: string; line: number }; via?: string; line: string }> = [];
  for (const entries of files) for (const e of entries) given.push({ key: e.key, where: { file: e.file, line: e.line }, line: 'the line' });
  for (const e of layered.env) given.push({ key: e.key, via: `env ${e.name}`, line: 'the variable' });
  for (const x of layered.sets) given.push({ key: x.key, via: `--set ${x.key}`, line: 'the flag' });
  let warned = 0;
  let more = 0;
  for (const e of given) {
    if (read.has(e.key)) continue;
    if (warned >= 10) {
      more++;
      continue;
    }
    warned++;
    const guess = closest(e.key, read);
    warn(
      `${e.via ? `${e.via.length > 80 ? `${e.via.slice(0, 80)}…` : e.via}: ` : ''}${shortKey(e.key)} is not read by any layer, flavor or idekube setting: it has no effect${guess ? ` (did you mean ${guess}?)` : ''}`,
      e.where,
      guess ? `rename it to ${guess}, or remove ${e.line}` : `remove ${e.line}, or declare the key in the args: of the layer that reads it`,
    );
  }
  if (more) warn(`${more} more key${more === 1 ? '' : 's'} given ${more === 1 ? 'is' : 'are'} not read by anything`);
}

/** Flavor ids named on the command line (or BRANCH), checked against the catalog. */
export function selectFlavors(
  project: Project,
  names: string[],
  opts: { all?: boolean; env?: NodeJS.ProcessEnv; required?: boolean } = {},
): string[] {
  const { catalog } = project;
  if (opts.all) return catalog.order;
  let list = names;
  let via = 'argument';
  if (!list.length && opts.env?.BRANCH) {
    list = [opts.env.BRANCH];
    via = 'BRANCH';
  }
  if (!list.length) {
    if (opts.required === false) return catalog.order;
    throw new InputError(
      'no flavor given',
      undefined,
      `name one or more flavors (e.g. featured/base) or pass --all; known: ${listSome(catalog.order)}`,
    );
  }
  const unknown = list.filter((n) => !catalog.flavors.has(n));
  if (unknown.length) {
    const shown = listSome(
      unknown.map((u) => quoteShort(u)),
      5,
    );
    const near = unknown.length === 1 ? closest(unknown[0]!, catalog.order) : undefined;
    throw new InputError(
      `unknown flavor ${shown}${via === 'BRANCH' ? ' (from env BRANCH)' : ''}`,
      undefined,
      `${near ? `did you mean ${near}? ` : ''}use one of: ${listSome(catalog.order)}`,
    );
  }
  // keep catalog order (parents first), drop duplicates
  const named = new Set(list);
  return catalog.order.filter((id) => named.has(id));
}

export function flavorPlatforms(project: Project, id: string): Platform[] {
  return platformsOf(project.catalog, id);
}
