/** The real CLI as a child process that a test can watch and interrupt (SIGINT tests, long builds). */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, REPO_ROOT } from './project.js';

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr+stdout match `re`, rejects after `timeoutMs`. */
  waitFor: (re: RegExp, timeoutMs: number) => Promise<void>;
  exit: (timeoutMs: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export function startCli(args: string[], env: Record<string, string> = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    for (const l of listeners) l();
  });
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('close', (code, signal) => {
      gone = true;
      for (const l of listeners) l();
      resolve({ code, signal, ms: Date.now() - started });
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(out + err)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (gone) {
            // the CLI ended without printing it: no point waiting for the timeout
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`idekube exited before printing ${re}; output:\n${out}${err}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output so far:\n${out}${err}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    exit: (timeoutMs) =>
      Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`idekube did not exit within ${timeoutMs} ms`));
          }, timeoutMs).unref(),
        ),
      ]),
  };
}
