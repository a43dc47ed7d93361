/** Registers `idekube qemu …` (root disks, the VM-in-container image, local runs). Actions load lazily. */
import type { Command } from 'commander';
import type { Context } from '../context.js';

export type Runner = (ctxFn: () => Context, fn: (ctx: Context) => Promise<void>) => Promise<void>;

/** Flags shared by every subcommand that may build a root disk. */
function diskFlags(cmd: Command): Command {
  return cmd
    .option(
      '--base <kind>',
      'debian (built from Debian packages with mmdebstrap) or cloud (the image pinned in .dockerargs); default: QEMU_BASE, else debian',
    )
    .option('--accel <mode>', 'auto (KVM only if a short probe boot works, else TCG), kvm or tcg', 'auto')
    .option('--memory <size>', 'memory of the build VM', '2G')
    .option('--cpus <n>', 'CPUs of the build VM', '2')
    .option('--ssh-timeout <s>', 'bound for the guest to open SSH', '300')
    .option('--provision-timeout <s>', 'bound for provisioning', '3600')
    .option('--shutdown-timeout <s>', 'bound for the clean power-off', '120')
    .option('--rebuild', 'build again even when the cache has a disk for these inputs');
}

export function registerQemu(qemu: Command, run: Runner, ctxOf: (cmd: Command) => () => Context): void {
  const impl = async () => import('./qemu.js');

  diskFlags(
    qemu
      .command('rootdisk')
      .description('build (or find in the cache) the bootable qcow2 root disk of a flavor, provisioned from its manifest')
      .argument('[flavor]', 'e.g. featured/base (default: env BRANCH)')
      .option('--arch <arch>', "amd64 or arm64 (default: the host's)")
      .option('--base-only', 'only the base disk (Debian packages or the cloud image), without provisioning'),
  ).action(async (flavor: string | undefined, opts, cmd: Command) =>
    run(ctxOf(cmd), async (ctx) => (await impl()).rootdiskCommand(ctx, flavor, opts)),
  );

  diskFlags(
    qemu
      .command('image')
      .description('build the VM-in-container image <NAME>-qemu:<tag>-<arch> (QEMU, the root disk and a launcher); --push publishes it')
      .argument('[flavor]', 'e.g. featured/base (default: env BRANCH)')
      .option('--arch <list>', "comma-separated: amd64, arm64 (default: the flavor's platforms)")
      .option('--push', 'push the per-arch images, then the manifest list once every platform is in the registry')
      .option('--no-compress', 'ship the disk uncompressed (faster to build, larger image; CI)'),
  ).action(async (flavor: string | undefined, opts, cmd: Command) =>
    run(ctxOf(cmd), async (ctx) => (await impl()).imageCommand(ctx, flavor, opts)),
  );

  diskFlags(
    qemu
      .command('run')
      .description("boot a flavor's root disk locally for debugging: serial console in the terminal, SSH and HTTP on loopback ports")
      .argument('[flavor]', 'e.g. featured/base (default: env BRANCH)')
      .option('--arch <arch>', "amd64 or arm64 (default: the host's)")
      .option('--base-only', 'boot the base disk instead of the provisioned one')
      .option('--ssh-port <port>', "host port forwarded to the guest's 22 (default: a free one)")
      .option('--web-port <port>', "host port forwarded to the guest's 80 (default: a free one)")
      .option('--persist', "keep the guest's changes in .idekube/qemu/run/ (default: every change is discarded)")
      .option('--check', 'boot, check SSH (and nginx on a provisioned disk), power off, and report; no console'),
  ).action(async (flavor: string | undefined, opts, cmd: Command) =>
    run(ctxOf(cmd), async (ctx) => (await impl()).runCommand(ctx, flavor, opts)),
  );
}
