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
}

export function makeContext(opts: GlobalOptions, env: NodeJS.ProcessEnv): Context {
  const isTTY = Boolean(process.stdout.isTTY);
  const color = opts.color && isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  let project: Project | undefined;
  return {
    opts,
    env,
    io: { out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`), err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`), isTTY, color },
    async project() {
      if (!project) {
        const { loadProject } = await import('../config/project.js');
        const flags: Partial<Record<SettingKey, string>> = {};
        if (opts.registry !== undefined) flags.REGISTRY = opts.registry;
        if (opts.author !== undefined) flags.AUTHOR = opts.author;
        if (opts.name !== undefined) flags.NAME = opts.name;
        if (opts.gitTag !== undefined) flags.GIT_TAG = opts.gitTag;
        for (const [flag, v] of Object.entries(flags)) {
          if (v === '') throw new InputError(`--${flag.toLowerCase().replace('_', '-')} must not be empty`, undefined, 'give a value or leave the flag out');
        }
        project = loadProject({ ...(opts.dir ? { dir: opts.dir } : {}), ...(opts.profile !== undefined ? { profile: opts.profile } : {}), sets: opts.set, flags, env });
      }
      return project;
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
