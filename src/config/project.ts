/** One loaded project: the catalog, the layered settings and the image naming, validated together. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadCatalog, platformsOf } from './catalog.js';
import { InputError } from './errors.js';
import type { Catalog, Platform } from './model.js';
import { describeOrigin, readLayered, type Layered, type ProjectInputs, type SettingKey } from './sources.js';
import { checkReference, flavorTag, imageRef, type ImageNaming } from './tags.js';
import { resolveGitVersion, type GitVersion } from './version.js';

export interface Project {
  root: string;
  catalog: Catalog;
  layered: Layered;
  version: GitVersion;
  naming: ImageNaming;
}

/** The nearest folder at or above `start` that holds flavors/. */
export function findRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'flavors'))) return dir;
    if (dirname(dir) === dir) {
      throw new InputError(`no idekube project (a folder with flavors/) at or above ${resolve(start)}`, undefined, 'run idekube inside a project, or pass -C <dir>');
    }
  }
}

/** The project folder: -C's, checked, or the nearest one above the working folder. */
export function projectRoot(inputs: { dir?: string }): string {
  const root = inputs.dir ? resolve(inputs.dir) : findRoot(process.cwd());
  if (inputs.dir && !existsSync(join(root, 'flavors'))) {
    throw new InputError(`-C ${inputs.dir}: no flavors/ folder in ${root}`, undefined, 'point -C at the project root (the folder holding flavors/ and .dockerargs)');
  }
  return root;
}

export function loadProject(inputs: Omit<ProjectInputs, 'root'> & { dir?: string }): Project {
  const root = projectRoot(inputs);
  const layered = readLayered({ ...inputs, root });
  const catalog = loadCatalog(root);
  const s = layered.settings;
  // Version and naming need git: computed on first use, so `list` and `config` never spawn it.
  let version: GitVersion | undefined;
  let naming: ImageNaming | undefined;
  const project = {
    root,
    catalog,
    layered,
    get version(): GitVersion {
      const gitTagSetting = s.GIT_TAG;
      version ??= resolveGitVersion(root, gitTagSetting ? { value: gitTagSetting.value, from: describeOrigin(gitTagSetting.origin) } : undefined);
      return version;
    },
    get naming(): ImageNaming {
      if (!naming) {
        const n: ImageNaming = { registry: s.REGISTRY!.value, author: s.AUTHOR!.value, name: s.NAME!.value, gitTag: project.version.gitTag, postfix: s.TAG_POSTFIX?.value ?? '' };
        checkNaming(n, layered);
        naming = n;
      }
      return naming;
    },
  };
  return project;
}

function checkNaming(n: ImageNaming, layered: Layered): void {
  const from = (k: SettingKey) => describeOrigin(layered.settings[k]!.origin);
  if (n.postfix !== '' && !/^[A-Za-z0-9_.-]+$/.test(n.postfix)) {
    throw new InputError(`TAG_POSTFIX ${JSON.stringify(n.postfix)} (from ${from('TAG_POSTFIX')}) may only hold letters, digits, _, . and -`, undefined, 'e.g. TAG_POSTFIX=-ascend');
  }
  const probe = imageRef('x/y', n, { arch: 'amd64', qemu: true });
  checkReference(probe, `the image name built from REGISTRY (${from('REGISTRY')}), AUTHOR (${from('AUTHOR')}) and NAME (${from('NAME')})`, 'REGISTRY is a host[:port], AUTHOR and NAME lower-case letters, digits and . _ - separators');
}

/** Flavor ids named on the command line (or BRANCH), checked against the catalog. */
export function selectFlavors(project: Project, names: string[], opts: { all?: boolean; env?: NodeJS.ProcessEnv; required?: boolean } = {}): string[] {
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
    throw new InputError('no flavor given', undefined, `name one or more flavors (e.g. featured/base) or pass --all; known: ${catalog.order.join(', ')}`);
  }
  const unknown = list.filter((n) => !catalog.flavors.has(n));
  if (unknown.length) {
    throw new InputError(`unknown flavor ${unknown.map((u) => JSON.stringify(u)).join(', ')}${via === 'BRANCH' ? ' (from env BRANCH)' : ''}`, undefined, `use one of: ${catalog.order.join(', ')}`);
  }
  // keep catalog order (parents first), drop duplicates
  return catalog.order.filter((id) => list.includes(id));
}

export function flavorPlatforms(project: Project, id: string): Platform[] {
  return platformsOf(project.catalog, id);
}

export { flavorTag };
