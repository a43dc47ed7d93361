/** A tiny HTTP client for 127.0.0.1 only: no redirects followed, a deadline on every request, bodies capped. */
import { request } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const MAX_BODY = 512 * 1024;

/** GET http://127.0.0.1:PORT/PATH. Rejects on connection errors and after `timeoutMs`. */
export function httpGet(port: number, path: string, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { 'user-agent': 'idekube-test', ...headers }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          if (size < MAX_BODY) chunks.push(d);
          size += d.length;
        });
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

/** One line describing an answer, for messages: `502 Bad Gateway (nginx/1.22.1)`. */
export function describeAnswer(a: HttpAnswer): string {
  const title = /<title>([^<]{1,80})<\/title>/i.exec(a.body)?.[1]?.trim();
  return `${a.status}${title ? ` "${title}"` : ''}${a.headers.server ? ` (${a.headers.server})` : ''}`;
}

/** nginx's answer when its upstream is down (connection refused → 502, upstream timeout → 504). */
export function upstreamDown(status: number): boolean {
  return status === 502 || status === 504;
}

/**
 * GET that follows up to `max` redirects, but only ones that stay on 127.0.0.1:PORT (relative, or absolute to the
 * same port). Returns the final answer and the path it came from.
 */
export async function getFollowing(
  port: number,
  path: string,
  timeoutMs = 10_000,
  max = 3,
): Promise<{ answer: HttpAnswer; path: string; hops: string[] }> {
  let current = path;
  const hops: string[] = [];
  for (let i = 0; ; i++) {
    const answer = await httpGet(port, current, timeoutMs);
    const loc = answer.headers.location;
    if (![301, 302, 303, 307, 308].includes(answer.status) || !loc || i >= max) return { answer, path: current, hops };
    const next = new URL(loc, `http://127.0.0.1:${port}${current}`);
    if (next.host !== `127.0.0.1:${port}`) return { answer, path: current, hops };
    hops.push(`${current} → ${next.pathname}${next.search}`);
    current = `${next.pathname}${next.search}`;
  }
}
