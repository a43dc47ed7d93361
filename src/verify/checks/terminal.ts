/**
 * check: terminal — the web terminal (ttyd) behind `<route>ws`: a shell that runs what is typed, as the image's
 * user. ttyd's protocol: subprotocol `tty`; the client first sends a JSON object (auth token, size), then input
 * frames (`0` + keystrokes); the server sends output frames (`0` + bytes; `1` title, `2` preferences).
 */
import { randomBytes } from 'node:crypto';
import type { LayerCommand, Route } from '../../config/model.js';
import { describeAnswer, httpGet, upstreamDown } from '../http.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { describeFailedUpgrade } from '../websocket.js';

/** How long a typed line may take to come back (longer under emulation, which lengthens --timeout). */
export function terminalWait(timeoutMs: number): number {
  return Math.max(30_000, Math.min(timeoutMs / 2, 90_000));
}

export interface TerminalTarget {
  page: Route;
  /** The WebSocket path: the route's path + `ws` (`/terminal/` → `/terminal/ws`). */
  socket: string;
}

export function terminalTarget(service: VerifyService): TerminalTarget {
  const page = service.routes.find((r) => !r.exact) ?? service.routes[0];
  if (!page) fail(`service ${service.name} declares no route`);
  return { page, socket: `${page.path.replace(/\/+$/, '')}/ws` };
}

/** Escape sequences (colours, bracketed paste, titles) out of terminal output. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-9;?<>=]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b[=>78]/g, '');
}

/** zsh's first-run menu (no ~/.zshrc yet) eats keystrokes until one of its keys is pressed: `q` leaves it as it was. */
export const ZSH_NEWUSER = /zsh-newuser-install|Type one of the keys in parentheses/;

export interface TerminalRun {
  opened: boolean;
  /** HTTP status when the upgrade was refused. */
  status?: number;
  /** What the shell printed after `idekube-test-<mark>`, when it did. */
  value?: string;
  /** All output, escape sequences removed. */
  output: string;
  /** Output frames received. */
  frames: number;
  closed?: { code: number; reason: string };
  error?: string;
}

export interface TerminalOptions {
  timeoutMs: number;
  /** Request headers (the access token). */
  headers?: Record<string, string>;
  /** Run before (`touch ~/x`); its output is not read. */
  before?: string;
}

/**
 * Types `[before; ]echo "idekube-test-"'MARK' "$(EXPR)"` into the terminal and reads the line it prints. The quotes
 * split the marker, so the terminal's echo of what was typed never matches: only a shell that ran it prints it whole.
 */
export async function terminalEval(port: number, path: string, expr: string, opts: TerminalOptions): Promise<TerminalRun> {
  const { default: WebSocket } = await import('ws');
  const mark = randomBytes(4).toString('hex');
  const line = `${opts.before ? `${opts.before}; ` : ''}echo "idekube-test-"'${mark}' "$(${expr})"\r`;
  const found = new RegExp(`idekube-test-${mark}[ \\t]+([^\\s]+)`);
  return new Promise((resolve) => {
    const result: TerminalRun = { opened: false, output: '', frames: 0 };
    let raw = '';
    let sent = 0;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, ['tty'], {
      handshakeTimeout: opts.timeoutMs,
      perMessageDeflate: false,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const finish = (extra: Partial<TerminalRun> = {}) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      Object.assign(result, extra, { output: stripAnsi(raw) });
      try {
        ws.terminate();
      } catch {
        /* already gone */
      }
      resolve(result);
    };
    const input = (s: string) => ws.send(Buffer.from(`0${s}`, 'utf8'));
    let quitMenu = false;
    let prompted = false;
    const type = () => {
      if (settled || sent >= 2) return;
      if (!quitMenu && ZSH_NEWUSER.test(stripAnsi(raw))) {
        quitMenu = true;
        input('q');
      }
      // a second try clears what the first may have left on the line (Ctrl-U)
      input(`${sent ? '\x15' : ''}${line}`);
      sent++;
    };
    timers.push(setTimeout(() => finish({}), opts.timeoutMs));
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      finish({ status: res.statusCode ?? 0 });
    });
    ws.on('open', () => {
      result.opened = true;
      ws.send(Buffer.from(JSON.stringify({ AuthToken: '', columns: 160, rows: 40 }), 'utf8'));
      // type once the shell has printed something (its prompt), or after 3 s; once more halfway, in case the
      // first line reached a shell still starting
      timers.push(
        setTimeout(() => sent || type(), 3000),
        setTimeout(type, Math.max(4000, opts.timeoutMs / 2)),
      );
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (buf[0] !== 0x30) return; // title and preferences
      result.frames++;
      raw += buf.subarray(1).toString('utf8');
      if (!prompted) {
        prompted = true;
        timers.push(setTimeout(() => sent || type(), 300)); // the prompt is out: a moment for the line editor
      }
      const m = found.exec(stripAnsi(raw));
      if (m) finish({ value: m[1]! });
    });
    ws.on('close', (code, reason) => finish({ closed: { code, reason: reason.toString('utf8') } }));
    ws.on('error', (e) => finish({ error: e.message }));
  });
}

/** Why a terminal run did not give a value, in words (undefined when it did). */
export function describeTerminalRun(r: TerminalRun, path: string, timeoutMs: number): string | undefined {
  if (r.value !== undefined) return undefined;
  if (!r.opened) {
    if (r.status !== undefined) return describeFailedUpgrade({ opened: false, status: r.status, first: Buffer.alloc(0) }, path);
    return `WebSocket upgrade on ${path} failed: ${r.error ?? 'no answer within the deadline'}`;
  }
  const tail = r.output.trim().split(/\r?\n/).slice(-2).join(' | ').slice(-120);
  if (r.closed && !r.frames)
    return `WebSocket ${path} opened but closed (code ${r.closed.code}${r.closed.reason ? `, ${r.closed.reason}` : ''}) before the shell printed anything: ttyd could not start the shell`;
  if (!r.frames)
    return `WebSocket ${path} opened but no shell output came within ${Math.round(timeoutMs / 1000)} s (subprotocol tty, after the JSON init): is ttyd behind it?`;
  return `WebSocket ${path} opened but the shell never echoed the marker within ${Math.round(timeoutMs / 1000)} s: is ttyd started writable (-W)? (last output: ${JSON.stringify(tail)})`;
}

export async function checkTerminal(port: number, service: VerifyService, user: string, timeoutMs = 30_000): Promise<string> {
  const { page, socket } = terminalTarget(service);
  const a = await httpGet(port, page.path, 10_000).catch((e: Error) => fail(`GET ${page.path} failed: ${e.message}`));
  if (upstreamDown(a.status))
    fail(`GET ${page.path} answered ${describeAnswer(a)}: nginx cannot reach the terminal on 127.0.0.1:${page.port}`);
  if (a.status !== 200) fail(`GET ${page.path} answered ${describeAnswer(a)}, expected the terminal's page (200)`);
  const r = await terminalEval(port, socket, 'id -un', { timeoutMs });
  const why = describeTerminalRun(r, socket, timeoutMs);
  if (why) fail(why);
  if (r.value !== user) fail(`the terminal's shell runs as ${r.value}, expected ${user} (the image's user)`);
  return `GET ${page.path} → 200; WebSocket ${socket} (tty): typed \`id -un\` → ${r.value}`;
}

/**
 * A command a layer declares, typed into the terminal: it must exit 0 and print `expect` (when given). Its output
 * comes back base64-encoded after the exit status, one token whatever it prints (first 2000 bytes).
 */
export async function checkCommand(port: number, service: VerifyService, command: LayerCommand, timeoutMs = 30_000): Promise<string> {
  const { socket } = terminalTarget(service);
  const r = await terminalEval(
    port,
    socket,
    `o=$( ${command.run} 2>&1 </dev/null); echo "$?:$(printf %s "$o" | head -c 2000 | base64 -w0)"`,
    { timeoutMs },
  );
  const why = describeTerminalRun(r, socket, timeoutMs);
  if (why) fail(why);
  const m = /^(\d+):([A-Za-z0-9+/=]*)$/.exec(r.value!);
  if (!m) fail(`\`${command.run}\` in the terminal printed ${JSON.stringify(r.value!.slice(0, 120))}, not an exit status and its output`);
  const code = Number(m[1]);
  const output = Buffer.from(m[2]!, 'base64').toString('utf8').trim();
  const shown = JSON.stringify(output.split('\n').slice(-3).join(' | ').slice(-200));
  if (code !== 0) fail(`\`${command.run}\` in the terminal exited ${code}${code === 127 ? ' (command not found)' : ''}: ${shown}`);
  if (command.expect !== undefined && !output.includes(command.expect))
    fail(`\`${command.run}\` in the terminal printed ${shown}, which does not contain ${JSON.stringify(command.expect)}`);
  return `WebSocket ${socket} (tty): typed \`${command.run}\` → exit 0, ${shown}`;
}
