/** `idekube qemu rootdisk|image|run`: flag checks, progress lines, interrupts; the work is in src/qemu/. */
import { IdekubeError, InputError } from '../../config/errors.js';
import type { Project } from '../../config/project.js';
import { selectFlavors } from '../../config/project.js';
import { type Arch, parseArch } from '../../config/platform.js';
import { parseAccel } from '../../qemu/kvm.js';
import { parsePort } from '../../qemu/ports.js';
import type { Reporter, RootDiskOptions } from '../../qemu/rootdisk.js';
import { parseSize } from '../../qemu/settings.js';
import { printJson, type Context } from '../context.js';

interface DiskFlags {
  arch?: string;
  base?: string;
  accel?: string;
  memory?: string;
  cpus?: string;
  sshTimeout?: string;
  provisionTimeout?: string;
  shutdownTimeout?: string;
  rebuild?: boolean;
  baseOnly?: boolean;
}

function seconds(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback * 1000;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1)
    throw new InputError(`${flag} ${JSON.stringify(text)}: expected a number of seconds`, undefined, `e.g. ${flag} 300`);
  return Number(text) * 1000;
}

function reporter(ctx: Context): Reporter {
  return {
    step: (m) => {
      if (!ctx.opts.quiet) ctx.io.err(`qemu: ${m}`);
    },
    detail: (m) => {
      if (ctx.opts.verbose) ctx.io.err(`  | ${m}`);
    },
  };
}

function oneFlavor(project: Project, ctx: Context, name: string | undefined): string {
  const ids = selectFlavors(project, name ? [name] : [], { env: ctx.env });
  return ids[0]!;
}

export function diskOptions(ctx: Context, f: DiskFlags, arch: Arch, signal: AbortSignal): RootDiskOptions {
  const memory = f.memory ?? '2G';
  if (!/^[1-9][0-9]*[MG]$/.test(memory) || (parseSize(memory) ?? 0) < 256 * 2 ** 20)
    throw new InputError(`--memory ${JSON.stringify(memory)}: expected a size such as 2G or 1536M (at least 256M)`);
  const cpus = Number(f.cpus ?? '2');
  if (!/^[1-9][0-9]*$/.test(f.cpus ?? '2') || cpus > 64) throw new InputError(`--cpus ${JSON.stringify(f.cpus)}: expected 1-64`);
  return {
    arch,
    ...(f.base !== undefined ? { base: f.base } : {}),
    accel: parseAccel(f.accel),
    ...(f.rebuild ? { rebuild: true } : {}),
    ...(f.baseOnly ? { baseOnly: true } : {}),
    memory,
    cpus,
    sshTimeoutMs: seconds(f.sshTimeout, '--ssh-timeout', 300),
    provisionTimeoutMs: seconds(f.provisionTimeout, '--provision-timeout', 3600),
    shutdownTimeoutMs: seconds(f.shutdownTimeout, '--shutdown-timeout', 120),
    report: reporter(ctx),
    signal,
  };
}

/** Runs `fn` with an AbortSignal that SIGINT/SIGTERM trigger (a second Ctrl-C quits at once). */
export async function interruptible<T>(
  ctx: Context,
  fn: (signal: AbortSignal) => Promise<T>,
  opts: { ignoreSigint?: () => boolean } = {},
): Promise<T> {
  const controller = new AbortController();
  let n = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (sig === 'SIGINT' && opts.ignoreSigint?.()) return;
    n++;
    if (n > 1) process.exit(130);
    ctx.io.err(`idekube: ${sig}: stopping (the VM is stopped and nothing half-built is kept; press Ctrl-C again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const r = await fn(controller.signal);
    return r;
  } catch (e) {
    if (controller.signal.aborted) throw new IdekubeError('cancelled', { exitCode: 130 });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function rootdiskCommand(ctx: Context, name: string | undefined, f: DiskFlags): Promise<void> {
  const project = await ctx.project();
  const id = oneFlavor(project, ctx, name);
  const arch = parseArch(f.arch);
  const { ensureRootDisk } = await import('../../qemu/rootdisk.js');
  const d = await interruptible(ctx, (signal) => ensureRootDisk(project, id, diskOptions(ctx, f, arch, signal)));
  if (ctx.opts.json) {
    printJson(ctx.io, {
      flavor: id,
      arch,
      cached: d.cached,
      disk: d.disk,
      kernel: d.kernel ?? null,
      initrd: d.initrd ?? null,
      key: d.meta.key,
      boot: d.meta.boot,
      base: d.meta.base,
      timings: d.meta.timings,
      logs: d.logs ?? null,
    });
  } else ctx.io.out(d.disk);
}

export async function imageCommand(
  ctx: Context,
  name: string | undefined,
  f: DiskFlags & { push?: boolean; compress?: boolean },
): Promise<void> {
  const project = await ctx.project();
  const id = oneFlavor(project, ctx, name);
  const { platformsOf } = await import('../../config/catalog.js');
  const declared = platformsOf(project.catalog, id).map((p) => p.split('/')[1] as Arch);
  const arches = f.arch ? [...new Set(f.arch.split(',').map((a) => parseArch(a.trim())))] : declared;
  for (const a of arches) {
    if (!declared.includes(a))
      throw new InputError(`${id} is not built for linux/${a} (its platforms: ${declared.map((d) => `linux/${d}`).join(', ')})`);
  }
  const { buildVmImages } = await import('../../qemu/image.js');
  const result = await interruptible(ctx, (signal) =>
    buildVmImages(project, id, arches, {
      disk: (arch) => diskOptions(ctx, f, arch, signal),
      push: Boolean(f.push),
      compress: f.compress !== false,
      report: reporter(ctx),
      signal,
      explicitArch: Boolean(f.arch),
    }),
  );
  if (ctx.opts.json) printJson(ctx.io, result);
  else {
    for (const i of result.images) ctx.io.out(i.ref);
    if (result.list?.written) ctx.io.out(result.list.ref);
  }
}

export async function runCommand(
  ctx: Context,
  name: string | undefined,
  f: DiskFlags & { sshPort?: string; webPort?: string; persist?: boolean; check?: boolean },
): Promise<void> {
  const project = await ctx.project();
  const id = oneFlavor(project, ctx, name);
  const arch = parseArch(f.arch);
  const sshPort = parsePort(f.sshPort, '--ssh-port');
  const webPort = parsePort(f.webPort, '--web-port');
  const { runVm } = await import('../../qemu/run.js');
  let interactive = false;
  const result = await interruptible(
    ctx,
    (signal) =>
      runVm(project, id, {
        disk: diskOptions(ctx, { ...f, rebuild: f.rebuild ?? false }, arch, signal),
        ...(sshPort ? { sshPort } : {}),
        ...(webPort ? { webPort } : {}),
        persist: Boolean(f.persist),
        check: Boolean(f.check),
        report: reporter(ctx),
        print: (s) => ctx.io.err(s),
        signal,
        onInteractive: () => {
          interactive = true;
        },
      }),
    // in the console, Ctrl-C belongs to the guest
    { ignoreSigint: () => interactive },
  );
  if (ctx.opts.json) printJson(ctx.io, result);
  else if (f.check)
    ctx.io.out(
      `ok: ${id} (${arch}) booted (${result.guest?.machine ?? '?'}) to SSH in ${result.bootToSshS} s${result.http ? `, nginx answered ${result.http.status} at /` : ''}, powered off cleanly`,
    );
}
