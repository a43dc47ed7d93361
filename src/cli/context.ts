/** What every command receives: parsed global options, the environment and the output channels. */
import type { Project } from '../config/project.js';
import { InputError } from '../config/errors.js';
import type { SettingKey } from '../config/sources.js';

export interface GlobalOptions {
  dir?: string;
  profile?: string;
  set: string[];
  registry?: string;
  author?: string;
  name?: string;
  gitTag?: string;
  /** `--scheme v0.4|v0.8`, `--lineup a[,b]`, `--staging`. */
  scheme?: string;
  lineup?: string;
  staging?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color: boolean;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  color: boolean;
}

export interface Context {
  opts: GlobalOptions;
  env: NodeJS.ProcessEnv;
  io: Io;
  /** Loads and validates the project on first use (imported lazily: `--help` never pays for YAML/ajv). */
  project(): Promise<Project>;
  /** The same project with another profile (null: .dockerargs alone): a lineup's base. */
  projectWithProfile(profile: string | null): Promise<Project>;
}

export function makeContext(opts: GlobalOptions, env: NodeJS.ProcessEnv): Context {
  const isTTY = Boolean(process.stdout.isTTY);
  const color = opts.color && isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  let project: Project | undefined;
  const others = new Map<string | null, Project>();
  const load = async (profile: { name?: string } | { none: true }) => {
    const { loadProject } = await import('../config/project.js');
    const flags: Partial<Record<SettingKey, string>> = {};
    if (opts.registry !== undefined) flags.REGISTRY = opts.registry;
    if (opts.author !== undefined) flags.AUTHOR = opts.author;
    if (opts.name !== undefined) flags.NAME = opts.name;
    if (opts.gitTag !== undefined) flags.GIT_TAG = opts.gitTag;
    for (const [flag, v] of Object.entries(flags)) {
      if (v === '')
        throw new InputError(
          `--${flag.toLowerCase().replace('_', '-')} must not be empty`,
          undefined,
          'give a value or leave the flag out',
        );
    }
    // `none`: .dockerargs alone, whatever IDEKUBE_PROFILE says (a lineup without a profile)
    const { IDEKUBE_PROFILE: _ignored, ...noProfileEnv } = env;
    const profileInputs =
      'none' in profile ? { env: noProfileEnv } : { env, ...(profile.name !== undefined ? { profile: profile.name } : {}) };
    const naming = { ...(opts.scheme !== undefined ? { scheme: opts.scheme } : {}), ...(opts.staging ? { staging: true } : {}) };
    return loadProject({ ...(opts.dir ? { dir: opts.dir } : {}), sets: opts.set, flags, ...naming, ...profileInputs });
  };
  return {
    opts,
    env,
    io: {
      out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
      err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
      isTTY,
      color,
    },
    async project() {
      project ??= await load({ ...(opts.profile !== undefined ? { name: opts.profile } : {}) });
      return project;
    },
    async projectWithProfile(profile) {
      if (!others.has(profile)) others.set(profile, await load(profile === null ? { none: true } : { name: profile }));
      return others.get(profile)!;
    },
  };
}

/** Tiny ANSI styling that respects --no-color / NO_COLOR / non-TTY. */
export function style(io: Io) {
  const wrap = (code: string) => (s: string) => (io.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { bold: wrap('1'), dim: wrap('2'), red: wrap('31'), green: wrap('32'), yellow: wrap('33'), cyan: wrap('36') };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
