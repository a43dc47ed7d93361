/** Without IDEKUBE_ACCESS_TOKEN every route is open, and the start says so in the container log. */
import { fail } from '../types.js';

export const OPEN_LINE = 'access: IDEKUBE_ACCESS_TOKEN is not set: every route is open';

export async function checkAccessOpen(logs: () => Promise<string>): Promise<string> {
  const lines = (await logs()).split('\n');
  if (lines.some((l) => l.includes(OPEN_LINE))) return `logged at start: "${OPEN_LINE}"`;
  const access = lines.filter((l) => /\baccess:|ACCESS_TOKEN/.test(l)).map((l) => l.trim());
  fail(
    `started without IDEKUBE_ACCESS_TOKEN, but the log does not say "${OPEN_LINE}"${access.length ? `; it says: ${access.slice(0, 2).join(' | ')}` : ' (no access line at all)'}`,
  );
}
