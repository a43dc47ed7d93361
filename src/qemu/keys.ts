/** SSH key pairs made per build (ed25519), instead of the upstream's fixed idekube/idekube password. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from './exec.js';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
  /** The public key line (`ssh-ed25519 AAAA… comment`). */
  publicText: string;
}

export async function makeKeyPair(dir: string, comment: string, signal?: AbortSignal): Promise<KeyPair> {
  const privateKey = join(dir, 'id_ed25519');
  await runTool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKey], {
    what: 'ssh-keygen',
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  const publicKey = `${privateKey}.pub`;
  return { privateKey, publicKey, publicText: readFileSync(publicKey, 'utf8').trim() };
}

const PUBLIC_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x21-\x7e ]*)?$/;

/** True for one OpenSSH public key line (safe to put into YAML or a file). */
export function isPublicKeyLine(line: string): boolean {
  return PUBLIC_KEY.test(line) && !/["'\\]/.test(line);
}
