/**
 * The home folder: an empty volume is populated from /etc/skel (IDEKUBE_INIT_HOME), owned by the user; across a
 * container restart the volume keeps what the user wrote, and a skeleton file the user changed is not put back.
 */
import type { Exec } from '../exec.js';
import { fail, skip } from '../types.js';
import type { ImageFacts } from '../types.js';

/** sha256 and path of every regular file under $1 (idekube's own bookkeeping left out). Fixed script. */
export const HASH_SCRIPT =
  'cd "$1" 2>/dev/null || exit 3; find . -type f ! -path "./.local/state/idekube/*" -exec sha256sum {} + 2>/dev/null | sort -k2';
/** Files under $1 not owned by user $2 (at most 5). Fixed script. */
export const OWNER_SCRIPT = 'find "$1" ! -user "$2" -print 2>/dev/null | head -n 5';

export function parseHashes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?\.\/(.+)$/.exec(line.trim());
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

export async function hashes(exec: Exec, dir: string): Promise<Map<string, string>> {
  const r = await exec(['sh', '-c', HASH_SCRIPT, 'sh', dir], { timeoutMs: 30_000 });
  if (r.code === 3) throw new Error(`${dir} does not exist`);
  return parseHashes(r.stdout);
}

export async function checkHomeInit(exec: Exec, facts: ImageFacts): Promise<string> {
  const user = facts.user;
  if (!user) skip(`the image has no user ${facts.env.USERNAME || 'idekube'} (USERNAME)`);
  if (!facts.skelExists) fail(`the image has no /etc/skel: an empty home volume at ${user.home} cannot be populated`);
  const skel = await hashes(exec, '/etc/skel');
  if (!skel.size) fail(`/etc/skel is empty: an empty home volume at ${user.home} stays empty`);
  const home = await hashes(exec, user.home).catch((e: Error) => fail(`the home folder: ${e.message}`));
  const missing = [...skel.keys()].filter((f) => !home.has(f));
  const differ = [...skel.keys()].filter((f) => home.has(f) && home.get(f) !== skel.get(f));
  if (missing.length)
    fail(
      `the empty home volume was not populated from /etc/skel (IDEKUBE_INIT_HOME=1): ${missing.length} of ${skel.size} file(s) missing in ${user.home}, e.g. ${missing.slice(0, 4).join(', ')}`,
    );
  if (differ.length)
    fail(`${differ.length} file(s) in ${user.home} differ from /etc/skel right after population: ${differ.slice(0, 4).join(', ')}`);
  const owners = await exec(['sh', '-c', OWNER_SCRIPT, 'sh', user.home, user.name], { timeoutMs: 30_000 });
  const notOwned = owners.stdout.split('\n').filter(Boolean);
  if (notOwned.length) fail(`the home is populated but not owned by ${user.name}: ${notOwned.join(', ')}`);
  return `empty volume at ${user.home} populated from /etc/skel (${skel.size} file(s)), owned by ${user.name}`;
}

export interface HomeChanges {
  /** A skeleton file the user changed (relative to the home). */
  changed?: string;
  line: string;
  marker: string;
  markerText: string;
}

/** Pick the skeleton file to change: .bashrc when there, else the first one. */
export function fileToChange(skel: string[]): string | undefined {
  return skel.find((f) => f === '.bashrc') ?? skel.find((f) => !f.includes('/')) ?? skel[0];
}

/** Writes, as the user, a new file and a line appended to a skeleton file. */
export async function changeHome(exec: Exec, facts: ImageFacts, nonce: string): Promise<HomeChanges> {
  const user = facts.user!;
  const changes: HomeChanges = {
    line: `# changed by the user (idekube test ${nonce})`,
    marker: 'idekube-test-marker',
    markerText: `written before the restart ${nonce}`,
  };
  const target = fileToChange(facts.skel);
  if (target) changes.changed = target;
  const r = await exec(
    [
      'sh',
      '-c',
      'cd "$HOME" && printf "%s\\n" "$3" > "$2" && if [ -n "$1" ]; then printf "%s\\n" "$4" >> "$1"; fi',
      'sh',
      target ?? '',
      changes.marker,
      changes.markerText,
      changes.line,
    ],
    { user: user.name, timeoutMs: 20_000 },
  );
  if (r.code !== 0) fail(`could not write into ${user.home} as ${user.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return changes;
}

export async function checkHomeVolume(exec: Exec, facts: ImageFacts, changes: HomeChanges): Promise<string> {
  const user = facts.user!;
  const r = await exec(['cat', `${user.home}/${changes.marker}`], { timeoutMs: 15_000 });
  if (r.code !== 0)
    fail(
      `${user.home}/${changes.marker}, written before the restart, is gone after it: the home volume did not survive (or the start-up wiped it)`,
    );
  if (r.stdout.trim() !== changes.markerText)
    fail(`${user.home}/${changes.marker} changed across the restart: ${JSON.stringify(r.stdout.trim().slice(0, 60))}`);
  return `${user.home}/${changes.marker} survived the restart (named volume)`;
}

export async function checkHomeKeeps(exec: Exec, facts: ImageFacts, changes: HomeChanges): Promise<string> {
  const user = facts.user!;
  if (!changes.changed) skip('the skeleton has no file the user could change');
  const r = await exec(['cat', `${user.home}/${changes.changed}`], { timeoutMs: 15_000 });
  if (r.code !== 0) fail(`~/${changes.changed}, changed by the user, is missing after the restart`);
  if (!r.stdout.includes(changes.line))
    fail(
      `~/${changes.changed}, changed by the user, was overwritten from /etc/skel at the restart (IDEKUBE_INIT_HOME must keep the user's changes)`,
    );
  return `~/${changes.changed} keeps the user's change across a restart with IDEKUBE_INIT_HOME=1`;
}
