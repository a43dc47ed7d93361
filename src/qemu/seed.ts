/**
 * The NoCloud seed of a VM: a "cidata" ISO with user-data, meta-data (with an instance-id) and, for
 * idekube's Debian disks (which have no cloud-init), provision.pub and authorized_keys as plain files.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../config/errors.js';
import { onPath, runTool } from './exec.js';
import { isPublicKeyLine } from './keys.js';

export interface SeedInput {
  instanceId: string;
  hostname: string;
  /** Public key of the provisioning account (idekube-provision). */
  provisionKey: string;
  /** authorized_keys for the flavor's user (idekube), optional. */
  authorizedKeys?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function renderUserData(template: string, s: SeedInput): string {
  if (!isPublicKeyLine(s.provisionKey))
    throw new RunError(`not an OpenSSH public key line: ${JSON.stringify(s.provisionKey.slice(0, 40))}`);
  if (!template.includes('@@PROVISION_KEY@@')) throw new RunError('the user-data template has no @@PROVISION_KEY@@ placeholder');
  return template.replace(/@@PROVISION_KEY@@/g, s.provisionKey);
}

export function renderMetaData(template: string, s: SeedInput): string {
  if (!ID.test(s.instanceId) || !ID.test(s.hostname)) throw new RunError(`bad instance id or host name: ${s.instanceId} ${s.hostname}`);
  return template.replace(/@@INSTANCE_ID@@/g, s.instanceId).replace(/@@HOSTNAME@@/g, s.hostname);
}

/** Writes the seed files into `dir` and makes `dir/seed.iso`; returns its path. */
export async function makeSeed(
  dir: string,
  templates: { userData: string; metaData: string },
  s: SeedInput,
  signal?: AbortSignal,
): Promise<string> {
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  put('user-data', renderUserData(readFileSync(templates.userData, 'utf8'), s));
  put('meta-data', renderMetaData(readFileSync(templates.metaData, 'utf8'), s));
  put('provision.pub', `${s.provisionKey}\n`);
  if (s.authorizedKeys) put('authorized_keys', s.authorizedKeys.endsWith('\n') ? s.authorizedKeys : `${s.authorizedKeys}\n`);
  const iso = join(dir, 'seed.iso');
  // genisoimage is what cloud-localds runs; cloud-localds itself cannot add the extra files.
  const tool = onPath('genisoimage') ? 'genisoimage' : onPath('mkisofs') ? 'mkisofs' : onPath('xorriso') ? 'xorriso' : undefined;
  if (!tool)
    throw new RunError('no ISO writer for the NoCloud seed (genisoimage, mkisofs or xorriso)', { fix: 'apt-get install genisoimage' });
  const args = ['-output', `${iso}.tmp`, '-volid', 'cidata', '-joliet', '-rock', '-quiet', ...files];
  await runTool(tool, tool === 'xorriso' ? ['-as', 'mkisofs', ...args] : args, {
    what: 'seed ISO',
    cwd: dir,
    timeoutMs: 60_000,
    ...(signal ? { signal } : {}),
  });
  renameSync(`${iso}.tmp`, iso);
  return iso;
}
