/**
 * check: ssh — the WebSocket route carries sshd's banner (`SSH-2.0-`), on both `/ssh` and `/ssh/`; and a full
 * login as the image's user with a generated key, through the WebSocket (as `websocat --binary` does for users),
 * runs a command.
 */
import type { Route } from '../../config/model.js';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { describeFailedUpgrade, printable, wsProbe, wsStream } from '../websocket.js';
import { within } from '../wait.js';
import { messageOf } from '../../config/errors.js';
import { prop } from '../../config/guards.js';

export function sshRoute(service: VerifyService): Route {
  const r = service.routes.find((x) => x.websocket) ?? service.routes[0];
  if (!r) fail(`service ${service.name} declares no route`);
  return r;
}

/** The paths users may configure: the route, and for exact routes also its trailing-slash form. */
export function sshPaths(route: Route): string[] {
  if (!route.exact) return [route.path];
  return route.path.endsWith('/') ? [route.path] : [route.path, `${route.path}/`];
}

export async function checkSshBanner(port: number, service: VerifyService, timeoutMs = 15_000): Promise<string> {
  const route = sshRoute(service);
  const banners: string[] = [];
  for (const path of sshPaths(route)) {
    const p = await wsProbe(port, path, { bytes: 8, timeoutMs });
    const why = describeFailedUpgrade(p, path);
    if (why) fail(why);
    if (!p.first.length)
      fail(
        `WebSocket ${path} opened but ${p.closed ? 'closed' : 'stayed silent'} before the SSH banner: the bridge could not reach sshd (is sshd running?)`,
      );
    if (!p.first.subarray(0, 8).equals(Buffer.from('SSH-2.0-')))
      fail(`WebSocket ${path} carried ${printable(p.first)} instead of an SSH-2.0- banner: not sshd behind it`);
    banners.push(path);
  }
  return `${banners.join(' and ')} → 101, first bytes "SSH-2.0-"`;
}

/** ssh2 is CommonJS: its `utils` is only on the default export. */
async function ssh2(): Promise<typeof import('ssh2')> {
  const m = (await import('ssh2')) as typeof import('ssh2') & { default?: typeof import('ssh2') };
  return m.default ?? m;
}

export interface KeyPair {
  /** OpenSSH private key. */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment` */
  publicKey: string;
}

export async function generateKeyPair(comment = 'idekube-test'): Promise<KeyPair> {
  const { utils } = await ssh2();
  // ssh2 strips leading zero bytes from an ed25519 public key, so about 1 key in 256 it makes cannot be parsed
  // back (mscdex/ssh2#1390, #1513): draw again until both halves parse
  for (let i = 0; i < 20; i++) {
    const k = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(k.private) instanceof Error) && !(utils.parseKey(k.public) instanceof Error))
      return { privateKey: k.private, publicKey: k.public.trim() };
  }
  throw new Error('could not generate a usable ed25519 key pair in 20 tries');
}

/** IDEKUBE_AUTHORIZED_KEYS: the base64 of an authorized_keys file. */
export function authorizedKeysValue(key: KeyPair): string {
  return Buffer.from(`${key.publicKey}\n`, 'utf8').toString('base64');
}

/** Logs in through the WebSocket and runs `command`; resolves its stdout. */
export async function sshRun(
  port: number,
  path: string,
  user: string,
  key: KeyPair,
  command: string,
  timeoutMs: number,
): Promise<{ stdout: string; code: number | null; serverVersion: string }> {
  const { Client } = await ssh2();
  const { stream, close } = await wsStream(port, path, timeoutMs);
  const conn = new Client();
  try {
    return await within(
      new Promise((resolve, reject) => {
        conn.on('ready', () => {
          conn.exec(command, (err, ch) => {
            if (err) return reject(err);
            let out = '';
            ch.on('data', (d: Buffer) => (out += d.toString('utf8')));
            ch.stderr.on('data', () => {});
            // ssh2 keeps the server's identification line on a private field: no public API hands it out
            ch.on('close', (code: number | null) => resolve({ stdout: out, code, serverVersion: String(prop(conn, '_remoteVer') ?? '') }));
          });
        });
        conn.on('error', reject);
        conn.connect({ sock: stream, username: user, privateKey: key.privateKey, readyTimeout: timeoutMs, hostVerifier: () => true });
      }),
      timeoutMs,
      `the SSH login through ${path} did not complete within ${timeoutMs / 1000} s`,
    );
  } finally {
    conn.end();
    close();
  }
}

export async function checkSshLogin(port: number, service: VerifyService, user: string, key: KeyPair, timeoutMs = 30_000): Promise<string> {
  const path = sshRoute(service).path;
  let r;
  try {
    r = await sshRun(port, path, user, key, 'id -un', timeoutMs);
  } catch (e) {
    const msg = messageOf(e);
    if (/authentication methods failed|All configured authentication/i.test(msg)) {
      fail(
        `SSH login as ${user} through ${path} was refused with the key given in IDEKUBE_AUTHORIZED_KEYS: the key did not reach ~/.ssh/authorized_keys, or sshd does not read it`,
      );
    }
    fail(`SSH login as ${user} through ${path} failed: ${msg}`);
  }
  const who = r.stdout.trim();
  if (r.code !== 0 || who !== user)
    fail(`SSH login through ${path} worked but \`id -un\` gave ${JSON.stringify(who)} (exit ${r.code}), expected ${user}`);
  return `logged in as ${user} through ${path} with a generated ed25519 key (IDEKUBE_AUTHORIZED_KEYS); \`id -un\` → ${who}`;
}
