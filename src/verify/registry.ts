/**
 * Which checks an image gets. Derived only from what the image declares — its services (check kind, routes),
 * its env (USERNAME, VGL_DISPLAY) and whether it carries idekube's runtime init — never from the flavor's name.
 */
import { protectedPath, protectedSocket } from './checks/auth.js';
import { redirectingRoutes } from './checks/redirect.js';
import { secondaryOf } from './runtime/health-states.js';
import { mainOf } from './subject.js';
import { fail, type ImageFacts, type Subject } from './types.js';

/**
 * Where a check runs: the image itself, the main container (no token), after its restart, or a container of its
 * own started with particular settings (bad keys, any uid, persistent root, a token, an invalid token, a home volume
 * across re-created containers); 'skip': does not apply, with the reason.
 */
export type CheckGroup = 'image' | 'main' | 'restart' | 'bad-keys' | 'any-uid' | 'rootfs' | 'access' | 'access-invalid' | 'volume' | 'skip';

export interface PlannedCheck {
  name: string;
  group: CheckGroup;
  /** What the check comes from (a service, a route, the runtime, an env var), for --json and unit tests. */
  from: string;
  /** For group 'skip': why it does not apply. */
  reason?: string;
  /** The service it checks, by name. */
  service?: string;
}

export interface PlanOptions {
  screenshot: boolean;
}

export function planChecks(subject: Subject, facts: ImageFacts, opts: PlanOptions): PlannedCheck[] {
  const out: PlannedCheck[] = [{ name: 'metadata', group: 'image', from: 'io.idekube.* labels and /etc/idekube/flavor.json' }];
  const services = subject.services;
  const routes = services.flatMap((s) => s.routes);
  if (routes.length) {
    out.push({ name: 'nginx', group: 'main', from: 'every image with routes: nginx on port 80' });
    out.push({ name: 'landing', group: 'main', from: `every image with routes: the landing page lists ${routes.length} route(s)` });
    out.push({
      name: 'health',
      group: 'main',
      from: `every image with routes: /health reports ${services.filter((s) => s.routes.length).length} service(s)`,
    });
  }
  for (const r of redirectingRoutes(routes))
    out.push({ name: `redirect ${r.path.replace(/\/+$/, '')}`, group: 'main', from: `route ${r.path}` });
  const kinds = new Map<string, number>();
  for (const s of services) kinds.set(s.check, (kinds.get(s.check) ?? 0) + 1);
  const label = (kind: string, name: string) => ((kinds.get(kind) ?? 0) > 1 || name !== kind ? `${kind} ${name}` : kind);
  for (const s of services) {
    const from = `service ${s.name} (check: ${s.check})`;
    switch (s.check) {
      case 'http':
        for (const r of s.routes) out.push({ name: `http ${r.path}`, group: 'main', from, service: s.name });
        break;
      case 'coder':
      case 'jupyter':
      case 'vnc':
      case 'dind':
      case 'terminal':
        out.push({ name: label(s.check, s.name), group: 'main', from, service: s.name });
        break;
      case 'ssh':
        out.push({ name: `${label('ssh', s.name)} banner`, group: 'main', from, service: s.name });
        out.push({
          name: `${label('ssh', s.name)} login`,
          group: 'main',
          from: `${from}, USERNAME=${facts.env.USERNAME || 'idekube'}`,
          service: s.name,
        });
        break;
      case 'none':
        out.push({ name: s.name, group: 'skip', from, reason: `service ${s.name} declares check: none` });
        break;
    }
  }
  // commands the layers install: typed into the web terminal (the first terminal service), as a user would
  const terminal = services.find((s) => s.check === 'terminal');
  for (const c of subject.commands ?? []) {
    const from = `layer ${c.layer}: commands.${c.name} (\`${c.run}\`)`;
    if (terminal) out.push({ name: `command ${c.name}`, group: 'main', from, service: terminal.name });
    else
      out.push({
        name: `command ${c.name}`,
        group: 'skip',
        from,
        reason: 'the image has no web terminal (a service with check: terminal) to run it in',
      });
  }
  const desktop = services.find((s) => s.check === 'vnc');
  if (desktop || facts.env.VGL_DISPLAY !== undefined) {
    out.push({
      name: 'gpu',
      group: 'main',
      from: desktop ? `service ${desktop.name} (a desktop)` : 'env VGL_DISPLAY',
      ...(desktop ? { service: desktop.name } : {}),
    });
  }
  if (opts.screenshot && desktop)
    out.push({ name: 'screenshot', group: 'main', from: `service ${desktop.name} (noVNC), --screenshot`, service: desktop.name });
  if (facts.hasRuntime && services.length) {
    const rt = 'the runtime init (/startup.sh)';
    out.push({ name: 'programs', group: 'main', from: `${rt}: supervisord` });
    out.push({ name: 'users', group: 'main', from: `${rt}: supervisord programs' user=` });
    out.push({ name: 'home init', group: 'main', from: `${rt}: IDEKUBE_INIT_HOME, USERNAME=${facts.env.USERNAME || 'idekube'}` });
    out.push({ name: 'home volume', group: 'restart', from: `${rt}: a home volume across a restart` });
    out.push({ name: 'home keeps changes', group: 'restart', from: `${rt}: IDEKUBE_INIT_HOME across a restart` });
    out.push({ name: 'shell', group: 'main', from: `${rt}: IDEKUBE_PREFERED_SHELL` });
    out.push({ name: 'hooks', group: 'main', from: `${rt}: /etc/idekube/startup.bash` });
    if (routes.length) planAccess(out, subject, facts, rt);
    if (services.some((s) => s.check === 'ssh')) out.push({ name: 'bad keys', group: 'bad-keys', from: `${rt}: IDEKUBE_AUTHORIZED_KEYS` });
    out.push({ name: 'any uid', group: 'any-uid', from: `${rt}: docker run --user 12345` });
    out.push({ name: 'init container', group: 'rootfs', from: `${rt}: I_AM_INIT_CONTAINER` });
    out.push({ name: 'chroot', group: 'rootfs', from: `${rt}: /rootfs mounted` });
  }
  return out;
}

/** The access token, /health's transitions, IPv6 and the home volume across re-created containers. */
function planAccess(out: PlannedCheck[], subject: Subject, facts: ImageFacts, rt: string): void {
  const services = subject.services;
  const main = mainOf(services);
  const tok = `${rt}: IDEKUBE_ACCESS_TOKEN`;
  const skipped = (name: string, from: string, reason: string) => out.push({ name, group: 'skip', from, reason });
  out.push({ name: 'access open', group: 'main', from: `${rt}: IDEKUBE_ACCESS_TOKEN not set` });
  out.push({ name: 'ipv6', group: 'main', from: `${rt}: nginx on [::]:80 where the container has IPv6` });
  const path = protectedPath(services, main);
  out.push({ name: 'auth 401', group: 'access', from: `${tok}, GET ${path}` });
  out.push({ name: 'auth query', group: 'access', from: `${tok} as ?idekube-container-access-token=, GET ${path}` });
  out.push({ name: 'auth header', group: 'access', from: `${tok} as a header, GET ${path}` });
  out.push({ name: 'auth cookie', group: 'access', from: `${tok} as a cookie, GET ${path}` });
  const socket = protectedSocket(services);
  if (socket)
    out.push({ name: 'auth websocket', group: 'access', from: `${tok}, WebSocket ${socket.path.replace(/\?.*$/, '')} (${socket.what})` });
  else
    skipped(
      'auth websocket',
      tok,
      'the image declares no protected WebSocket that upgrades on its own (a terminal, an exact WebSocket route, code-server)',
    );
  const open = services.flatMap((s) => s.routes.filter((r) => r.open).map((r) => r.path));
  out.push({ name: 'auth open routes', group: 'access', from: `${tok}: ${[...open, '/health'].join(', ')} without it` });
  out.push({ name: 'auth secret', group: 'access', from: `${tok}: not in logs or command lines` });
  const secondary = secondaryOf(services, main);
  const health = `${rt}: /health with services stopped (supervisorctl)`;
  if (main && secondary)
    out.push({ name: 'health degraded', group: 'access', from: `${health}: service ${secondary.name}`, service: secondary.name });
  else
    skipped(
      'health degraded',
      health,
      services.filter((s) => s.routes.length).length < 2
        ? 'only one service has a route: no secondary service to stop'
        : 'no secondary service with a route declares programs to stop',
    );
  if (main?.programs.length)
    out.push({ name: 'health 502', group: 'access', from: `${health}: the main service ${main.name}`, service: main.name });
  else skipped('health 502', health, `the main service ${main?.name ?? '(none)'} declares no programs to stop`);
  out.push({ name: 'access invalid', group: 'access-invalid', from: `${tok}='bad token;'` });

  const user = facts.user;
  const terminal = services.find((s) => s.check === 'terminal' && s.routes.length);
  const ssh = services.some((s) => s.check === 'ssh');
  const remap = `${rt}: IDEKUBE_USER_UID/GID and a home volume across re-created containers`;
  if (!user) skipped('uid remap', remap, `the image has no user ${facts.env.USERNAME || 'idekube'} (USERNAME)`);
  else if (!terminal)
    skipped('uid remap', remap, 'the image has no terminal service (check: terminal): the new uid is seen through the web terminal');
  else out.push({ name: 'uid remap', group: 'volume', from: `${remap}, through service ${terminal.name}`, service: terminal.name });
  const keys = `${rt}: SSH host keys kept in the home volume`;
  if (ssh && user) out.push({ name: 'host key kept', group: 'volume', from: keys });
  else if (ssh)
    skipped('host key kept', keys, `the image has no user ${facts.env.USERNAME || 'idekube'} (USERNAME): no home to keep them in`);
}

/** The image is the flavor it claims to be: labels and /etc/idekube/flavor.json agree with the subject. */
export function metadataVerdict(subject: Subject, facts: ImageFacts): string {
  const problems: string[] = [];
  const want = subject.services.map((s) => s.name).join(',');
  const labelFlavor = facts.labels['io.idekube.flavor'];
  const labelServices = facts.labels['io.idekube.services'];
  if (subject.flavor && labelFlavor !== undefined && labelFlavor !== subject.flavor)
    problems.push(`its label io.idekube.flavor is ${labelFlavor}, not ${subject.flavor}`);
  if (labelServices !== undefined && labelServices !== want)
    problems.push(
      `it declares services ${JSON.stringify(labelServices)} (label io.idekube.services) where ${subject.flavor ?? 'the subject'} has ${JSON.stringify(want)}`,
    );
  if (subject.services.length && !facts.metadata) problems.push('it has no /etc/idekube/flavor.json');
  if (subject.services.length && !facts.hasRuntime) problems.push('it has no /startup.sh (the runtime init)');
  if (problems.length) {
    fail(
      `the image does not match ${subject.source === 'catalog' ? 'the catalog' : 'its own metadata'}: ${problems.join('; ')}${subject.source === 'catalog' ? ' (stale image? rebuild it)' : ''}`,
    );
  }
  return `${labelFlavor ?? subject.flavor ?? 'image'}: services ${want || '(none)'}${facts.metadata?.lineage ? `, lineage ${facts.metadata.lineage.join(' → ')}` : ''}`;
}
