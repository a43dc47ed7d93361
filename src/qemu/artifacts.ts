/** Where idekube's QEMU files come from: the project's artifacts/qemu/ when it has one, else idekube's own. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../generate/flavor.js';

export interface QemuArtifacts {
  root: string;
  /** Files installed into every VM disk (seed and growfs units, the SSH host-key drop-in). */
  guest: string;
  /** The provisioning driver that runs in the guest. */
  provision: string;
  userData: string;
  metaData: string;
  /** The VM-in-container launcher. */
  container: string;
}

export function qemuArtifacts(projectRoot: string): QemuArtifacts {
  const own = join(projectRoot, 'artifacts', 'qemu');
  const root = existsSync(own) ? own : join(PACKAGE_ROOT, 'artifacts', 'qemu');
  return {
    root,
    guest: join(root, 'guest'),
    provision: join(root, 'provision.sh'),
    userData: join(root, 'cloud-init', 'user-data.yaml'),
    metaData: join(root, 'cloud-init', 'meta-data.yaml'),
    container: join(root, 'container'),
  };
}
