/**
 * Which extra CA certificates RUN steps trust (generate/extra-ca.ts says how): `--extra-ca-certs FILE`, env
 * IDEKUBE_EXTRA_CA_CERTS, or `IDEKUBE_EXTRA_CA_CERTS=` in the project's `.dockerargs` (relative to the project
 * root). A machine setting, like a proxy: it changes what a build can download, never what it builds.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ArgEntry } from './dockerargs.js';
import { InputError, type Location, messageOf, quoteShort } from './errors.js';

export const EXTRA_CA_KEY = 'IDEKUBE_EXTRA_CA_CERTS';

export interface ExtraCaChoice {
  /** Absolute path of the PEM file. */
  path: string;
  /** `--extra-ca-certs`, `env IDEKUBE_EXTRA_CA_CERTS`, `.dockerargs:7`. */
  from: string;
  certificates: number;
}

/** BuildKit takes secrets up to 500 KiB (its secretsprovider, and our session): a bundle is ≈ 220 KiB. */
const MAX_BYTES = 500 * 1024;

export function resolveExtraCa(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  root: string,
  base: ArgEntry[],
  profile?: { entries: ArgEntry[] },
): ExtraCaChoice | undefined {
  const inProfile = profile?.entries.find((e) => e.key === EXTRA_CA_KEY);
  if (inProfile) {
    // several lineups (each with its profile) share one build: one set of certificates for all of it
    throw new InputError(
      `${EXTRA_CA_KEY} is project-wide and cannot be set in a profile`,
      { file: inProfile.file, line: inProfile.line },
      `move the line to .dockerargs, or pass --extra-ca-certs ${inProfile.value}`,
    );
  }
  if (flag !== undefined) return check(flag, process.cwd(), '--extra-ca-certs');
  const fromEnv = env[EXTRA_CA_KEY];
  if (fromEnv) return check(fromEnv, process.cwd(), `env ${EXTRA_CA_KEY}`);
  const line = [...base].reverse().find((e) => e.key === EXTRA_CA_KEY);
  if (line?.value) return check(line.value, root, `${line.file}:${line.line}`, { file: line.file, line: line.line });
  return undefined;
}

function check(given: string, relativeTo: string, from: string, location?: Location): ExtraCaChoice {
  const fix =
    "give a PEM file of CA certificates (-----BEGIN CERTIFICATE----- blocks), e.g. /etc/ssl/certs/ca-certificates.crt or your proxy's CA";
  const where = location ? '' : ` (${from})`;
  if (!given.trim()) throw new InputError(`${from}: the path is empty`, location, fix);
  // bake reads `secret` entries as comma-separated key=value pairs
  if (/[,"'\n\r]/.test(given))
    throw new InputError(
      `extra CA certificates ${quoteShort(given)}${where}: the path holds a comma, a quote or a line break`,
      location,
      'copy or link the file to a path without them',
    );
  const path = isAbsolute(given) ? given : resolve(relativeTo, given);
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new InputError(`extra CA certificates ${quoteShort(given)}${where}: no such file (${path})`, location, fix);
  if (!st.isFile()) throw new InputError(`extra CA certificates ${quoteShort(given)}${where}: not a regular file`, location, fix);
  if (st.size > MAX_BYTES)
    throw new InputError(
      `extra CA certificates ${quoteShort(given)}${where}: ${st.size} bytes, more than the 500 KiB BuildKit takes as a secret`,
      location,
      "give only the CA certificates the builds need (your proxy's), not a file holding more",
    );
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new InputError(
      `extra CA certificates ${quoteShort(given)}${where}: cannot be read: ${messageOf(e)}`,
      location,
      'make the file readable by the user running idekube',
    );
  }
  const certificates = (text.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
  if (!certificates) throw new InputError(`extra CA certificates ${quoteShort(given)}${where}: no PEM certificate in it`, location, fix);
  return { path, from, certificates };
}
