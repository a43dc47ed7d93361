/**
 * IPv6: where the container has it (/proc/net/if_inet6 not empty), nginx also listens on [::]:80 — a request to
 * http://[::1]:80/health answers. Where it has not, skipped: that nginx still starts there is what every other
 * check shows.
 */
import type { Exec } from '../exec.js';
import { fail, skip } from '../types.js';

/** Fixed script: `ipv6=none|N`, then `code=NNN` (curl) or `line=HTTP/1.1 NNN …` (bash /dev/tcp), or `tool=none`. */
export const IPV6_SCRIPT = [
  // not `[ -s ]`: files in /proc have size 0 whatever they hold
  'if ! { read -r _ < /proc/net/if_inet6; } 2>/dev/null; then echo ipv6=none; exit 0; fi',
  'echo "ipv6=$(wc -l < /proc/net/if_inet6)"',
  'if command -v curl >/dev/null 2>&1; then',
  "  echo \"code=$(curl -g -s -o /dev/null -m 5 -w '%{http_code}' 'http://[::1]:80/health')\"",
  'elif command -v bash >/dev/null 2>&1; then',
  '  t=; command -v timeout >/dev/null 2>&1 && t="timeout 5"',
  '  echo "line=$($t bash -c \'exec 3<>/dev/tcp/::1/80 && printf "GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n" >&3 && head -n 1 <&3\' 2>/dev/null | tr -d \'\\r\')"',
  'else echo tool=none',
  'fi',
].join('\n');

export function parseIpv6(text: string): { addresses: number; code?: string; tool: 'curl' | 'bash' | 'none' } {
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim();
  const ipv6 = get('ipv6');
  const addresses = !ipv6 || ipv6 === 'none' ? 0 : Number(ipv6) || 1;
  const code = get('code');
  if (code !== undefined) return { addresses, code, tool: 'curl' };
  const line = get('line');
  if (line !== undefined) return { addresses, code: /^HTTP\/\S+\s+(\d{3})/.exec(line)?.[1] ?? '000', tool: 'bash' };
  return { addresses, tool: 'none' };
}

export async function checkIpv6(exec: Exec): Promise<string> {
  const r = await exec(['sh', '-c', IPV6_SCRIPT], { timeoutMs: 20_000 });
  if (r.code !== 0) fail(`cannot look at the container's IPv6: ${(r.stderr || r.stdout).trim().slice(0, 200) || `exit ${r.code}`}`);
  const v = parseIpv6(r.stdout);
  if (!v.addresses) skip('the container has no IPv6 (/proc/net/if_inet6 is empty); nginx started without it');
  if (v.tool === 'none') skip(`the container has IPv6 (${v.addresses} address(es)) but neither curl nor bash to ask [::1]:80 with`);
  if (!/^[1-5]\d\d$/.test(v.code ?? ''))
    fail(
      `the container has IPv6 (${v.addresses} address(es)) but nothing answers http://[::1]:80/health (${v.tool}: ${v.code === '000' ? 'no connection' : v.code}): nginx does not listen on [::]:80`,
    );
  return `the container has IPv6: http://[::1]:80/health → ${v.code} (${v.tool})`;
}
