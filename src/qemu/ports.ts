/** Free TCP ports on 127.0.0.1 for QEMU's host forwards (never fixed ports: two builds can run at once). */
import { createServer, type Server } from 'node:net';
import { InputError } from '../config/errors.js';

/** The port a server listens on (a TCP server: its address is never a pipe path). */
function portOf(s: Server): number {
  const a = s.address();
  if (a === null || typeof a === 'string') throw new Error(`not a TCP server: ${String(a)}`);
  return a.port;
}

/** `n` distinct ports that were free a moment ago (QEMU may still lose a race: callers retry on a bind error). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      servers.push(s);
    }
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A user-given port (flag), checked. */
export function parsePort(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1 || n > 65535)
    throw new InputError(`${flag} ${JSON.stringify(text)}: expected a port number 1-65535`, undefined, `e.g. ${flag} 2222`);
  return n;
}

/** True when something accepts connections on 127.0.0.1:port. */
export async function portOpen(port: number, timeoutMs = 2000): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
