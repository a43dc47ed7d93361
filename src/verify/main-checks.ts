/**
 * The checks that run against the main test container (port 80 published, an empty home volume, a mounted hook,
 * a generated key): from a planned check to the function that runs it.
 */
import { checkAccessOpen } from './checks/access-open.js';
import { checkCoder } from './checks/coder.js';
import { checkDind } from './checks/dind.js';
import { checkGpu } from './checks/gpu.js';
import { checkHealth } from './checks/health.js';
import { checkRoute } from './checks/http.js';
import { checkIpv6 } from './checks/ipv6.js';
import { checkJupyter } from './checks/jupyter.js';
import { checkLanding } from './checks/landing.js';
import { checkNginx } from './checks/nginx.js';
import { checkOwners } from './checks/owners.js';
import { checkPrograms } from './checks/programs.js';
import { checkRedirect, redirectingRoutes } from './checks/redirect.js';
import { takeScreenshot } from './checks/screenshot.js';
import { checkSshBanner, checkSshLogin, type KeyPair } from './checks/ssh.js';
import { checkCommand, checkTerminal, terminalWait } from './checks/terminal.js';
import { checkVnc } from './checks/vnc.js';
import type { TestContainer } from './container.js';
import type { Inside } from './exec.js';
import { describeReadiness, type Readiness } from './ready.js';
import type { PlannedCheck } from './registry.js';
import { checkHomeInit } from './runtime/home.js';
import { checkHooks } from './runtime/hooks.js';
import { checkShell } from './runtime/shell.js';
import { mainOf } from './subject.js';
import { fail, type ImageFacts, type Subject } from './types.js';

export interface MainOptions {
  timeoutMs: number;
  screenshot?: string;
  chromium?: string;
  env: NodeJS.ProcessEnv;
}

export interface MainState {
  c: TestContainer;
  inside: Inside;
  ready: Readiness;
  keys: KeyPair;
  shell: string | undefined;
}

export function mainCheck(p: PlannedCheck, subject: Subject, facts: ImageFacts, m: MainState, opts: MainOptions): () => Promise<string> {
  const service = subject.services.find((s) => s.name === p.service);
  const k: CheckInputs = {
    p,
    subject,
    facts,
    m,
    opts,
    port: () => m.c.port,
    service,
    user: facts.user?.name ?? facts.env.USERNAME ?? 'idekube',
    pollMs: Math.max(15_000, Math.min(opts.timeoutMs, 60_000)),
  };
  return (
    byNamePrefix(k) ??
    byName(k) ??
    (service ? byServiceKind(k, service) : undefined) ??
    (async () => fail(`no implementation for check ${p.name}`))
  );
}

/** What a check's implementation is chosen from and run with. */
interface CheckInputs {
  p: PlannedCheck;
  subject: Subject;
  facts: ImageFacts;
  m: MainState;
  opts: MainOptions;
  port: () => number;
  service: Subject['services'][number] | undefined;
  user: string;
  pollMs: number;
}

type Check = () => Promise<string>;

/** nginx first, then the checks named after a route, a command or an SSH service. */
function byNamePrefix({ p, subject, m, opts, port, service, user }: CheckInputs): Check | undefined {
  if (p.name === 'nginx') {
    return async () => {
      if (m.ready.exited || !m.ready.nginx)
        fail(
          `${describeReadiness(m.ready, port())}${m.ready.exited ? '' : `; last log lines: ${(await m.c.logTail(6)).split('\n').join(' | ')}`}`,
        );
      return checkNginx(port());
    };
  }
  if (p.name.startsWith('redirect ')) {
    const route = redirectingRoutes(subject.services.flatMap((s) => s.routes)).find(
      (r) => `redirect ${r.path.replace(/\/+$/, '')}` === p.name,
    )!;
    return () => checkRedirect(port(), route);
  }
  if (p.name.startsWith('http ')) {
    const route = service!.routes.find((r) => `http ${r.path}` === p.name)!;
    return () => checkRoute(port(), route);
  }
  if (service && p.name.startsWith('command ')) {
    const command = subject.commands!.find((c) => `command ${c.name}` === p.name)!;
    return () => checkCommand(port(), service, command, terminalWait(opts.timeoutMs));
  }
  if (service && p.name.endsWith(' banner')) return () => checkSshBanner(port(), service);
  if (service && p.name.endsWith(' login')) return () => checkSshLogin(port(), service, user, m.keys);
  return undefined;
}

/** The checks named once per image (inside the container, or of the landing and health pages). */
function byName({ p, subject, facts, m, opts, port, service, user, pollMs }: CheckInputs): Check | undefined {
  switch (p.name) {
    case 'programs':
      return () => checkPrograms(m.inside.exec, m.inside.logs, pollMs);
    case 'users':
      return () =>
        checkOwners(m.inside.exec, async (name) => {
          const r = await m.inside.exec(['id', '-u', name], { timeoutMs: 10_000 });
          return r.code === 0 ? Number(r.stdout.trim()) : undefined;
        });
    case 'home init':
      return () => checkHomeInit(m.inside.exec, facts);
    case 'shell':
      return () => checkShell(m.inside.exec, facts, m.shell);
    case 'hooks':
      return () => checkHooks(m.inside.exec);
    case 'landing':
      return () => checkLanding(port(), subject.services);
    case 'health':
      return () => checkHealth(port(), subject.services, mainOf(subject.services)?.name, pollMs);
    case 'access open':
      return () => checkAccessOpen(m.inside.logs);
    case 'ipv6':
      return () => checkIpv6(m.inside.exec);
    case 'gpu':
      return () =>
        checkGpu({
          exec: m.inside.exec,
          logs: m.inside.logs,
          user,
          display: `:${facts.env.IDEKUBE_VNC_DISPLAY || '1'}`,
          ...(facts.env.VGL_DISPLAY ? { vglDisplay: facts.env.VGL_DISPLAY } : {}),
        });
    case 'screenshot':
      return () =>
        takeScreenshot({
          port: port(),
          service: service!,
          file: opts.screenshot!,
          ...(opts.chromium ? { chromium: opts.chromium } : {}),
          env: opts.env,
          timeoutMs: Math.max(60_000, opts.timeoutMs / 2),
        });
  }
  return undefined;
}

/** A service's own check, by the kind its manifest declares. */
function byServiceKind({ m, opts, port, user, pollMs }: CheckInputs, service: NonNullable<CheckInputs['service']>): Check | undefined {
  switch (service.check) {
    case 'coder':
      return () => checkCoder(port(), service);
    case 'jupyter':
      return () => checkJupyter(port(), service);
    case 'vnc':
      return () => checkVnc(port(), service);
    case 'dind':
      return () => checkDind(m.inside.exec, pollMs);
    case 'terminal':
      return () => checkTerminal(port(), service, user, terminalWait(opts.timeoutMs));
  }
  return undefined;
}
