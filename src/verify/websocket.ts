/** WebSocket probes through nginx on 127.0.0.1: did the upgrade happen, and what were the first bytes? */
import type { Duplex } from 'node:stream';

export interface WsProbe {
  /** The upgrade succeeded (101). */
  opened: boolean;
  /** HTTP status when the server answered without upgrading. */
  status?: number;
  /** Negotiated subprotocol. */
  protocol?: string;
  /** The first bytes received (up to `bytes`). */
  first: Buffer;
  /** The server closed the WebSocket before `bytes` arrived. */
  closed?: { code: number; reason: string };
  error?: string;
  timedOut?: boolean;
}

export interface WsProbeOptions {
  protocols?: string[];
  /** Stop once this many bytes arrived (0: stop right after the upgrade). */
  bytes: number;
  timeoutMs: number;
  /** Sent right after the upgrade (some servers speak only when spoken to). */
  send?: Buffer;
  /** Extra request headers (the access token as a cookie or header). */
  headers?: Record<string, string>;
}

export async function wsProbe(port: number, path: string, opts: WsProbeOptions): Promise<WsProbe> {
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve) => {
    let first = Buffer.alloc(0);
    let settled = false;
    const result: WsProbe = { opened: false, first };
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, opts.protocols ?? [], {
      handshakeTimeout: opts.timeoutMs,
      perMessageDeflate: false,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    const timer = setTimeout(() => finish({ timedOut: true }), opts.timeoutMs);
    function finish(extra: Partial<WsProbe>) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      Object.assign(result, extra, { first });
      try {
        ws.terminate();
      } catch {
        /* already gone */
      }
      resolve(result);
    }
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      finish({ status: res.statusCode ?? 0 });
    });
    ws.on('open', () => {
      result.opened = true;
      if (ws.protocol) result.protocol = ws.protocol;
      if (opts.send) ws.send(opts.send);
      if (opts.bytes === 0) finish({});
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      first = Buffer.concat([first, chunk]);
      if (first.length >= opts.bytes) finish({});
    });
    ws.on('close', (code, reason) => finish({ closed: { code, reason: reason.toString('utf8') } }));
    ws.on('error', (e) => finish({ error: e.message }));
  });
}

/** What went wrong with a probe, in words, or undefined when it opened. */
export function describeFailedUpgrade(p: WsProbe, path: string): string | undefined {
  if (p.opened) return undefined;
  if (p.status !== undefined) {
    const hint =
      p.status === 502 || p.status === 504
        ? ': nginx could not reach the service behind it'
        : p.status === 404
          ? ': no such location in nginx'
          : p.status === 401
            ? ': the access token is required there (IDEKUBE_ACCESS_TOKEN)'
            : ': the location does not upgrade to a WebSocket';
    return `GET ${path} with Upgrade: websocket answered ${p.status} instead of 101${hint}`;
  }
  if (p.timedOut) return `no WebSocket upgrade on ${path} within the deadline`;
  return `WebSocket upgrade on ${path} failed: ${p.error ?? 'connection closed'}`;
}

/** An open WebSocket as a byte stream (binary frames), e.g. for an SSH client. */
export async function wsStream(port: number, path: string, timeoutMs: number): Promise<{ stream: Duplex; close: () => void }> {
  const { default: WebSocket, createWebSocketStream } = await import('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, [], { handshakeTimeout: timeoutMs, perMessageDeflate: false });
  // at once, not after 'open': the server's first bytes (the SSH banner) may arrive with the 101 answer, and a
  // message without a listener is lost
  const stream = createWebSocketStream(ws);
  stream.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(new Error(`GET ${path} with Upgrade: websocket answered ${res.statusCode} instead of 101`));
    });
    ws.once('error', reject);
  });
  return { stream, close: () => ws.terminate() };
}

/** Printable start of a byte string, for messages. */
export function printable(buf: Buffer, max = 40): string {
  const s = buf
    .subarray(0, max)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '.'));
  return buf.length ? JSON.stringify(s) : '(nothing)';
}
