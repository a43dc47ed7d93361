/** `idekube doctor`: checks what builds need and says how to fix each problem. */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { RunError } from '../../config/errors.js';
import { ARCH_NAMES, HOST_ARCH, PLATFORMS, archOf, isPlatform } from '../../config/platform.js';
import { credentialsFor } from '../../registry/credentials.js';
import { printJson, style, type Context } from '../context.js';

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export async function doctor(ctx: Context, opts: { platform?: string }): Promise<void> {
  const checks: Check[] = [
    ...(await engineChecks()),
    await buildxCheck(ctx),
    ...platformChecks(opts.platform),
    await registryCheck(ctx),
    ...(await qemuCheckList(ctx)),
  ];
  printChecks(ctx, checks);
  const fails = checks.filter((c) => c.status === 'fail');
  if (fails.length) throw new RunError(`${fails.length} problem(s): ${fails.map((f) => f.name).join(', ')}`);
}

/** The engine, and free disk under its root. */
async function engineChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const { connectEngine, describeEndpoint } = await import('../../engine/connect.js');
    const engine = await connectEngine(undefined, 5000);
    const v = await engine.version();
    const info = await engine.info();
    checks.push({
      name: 'engine',
      status: 'ok',
      detail: `Docker Engine ${v.Version} (API ${v.ApiVersion}) at ${describeEndpoint(undefined)}, ${info.Driver} storage, ${info.NCPU} CPUs`,
    });
    checks.push(diskCheck(info.DockerRootDir as string));
  } catch (e) {
    checks.push({
      name: 'engine',
      status: 'fail',
      detail: (e as Error).message.split('\n')[0]!,
      fix: (e as RunError).fix ?? 'start dockerd',
    });
  }
  return checks;
}

function diskCheck(root: string): Check {
  try {
    const fs = statfsSync(root);
    const free = (fs.bavail * fs.bsize) / 2 ** 30;
    return {
      name: 'disk',
      status: free < 10 ? (free < 3 ? 'fail' : 'warn') : 'ok',
      detail: `${free.toFixed(1)} GiB free under ${root}`,
      ...(free < 10 ? { fix: 'free space: the desktop images need ~10 GiB per architecture' } : {}),
    };
  } catch {
    return { name: 'disk', status: 'warn', detail: `cannot read free space of ${root} (remote engine?)` };
  }
}

/** buildx: version and the current builder, as the build's driver choice sees them. */
async function buildxCheck(ctx: Context): Promise<Check> {
  const { probeBuildx } = await import('../../drivers/buildx-probe.js');
  const bx = await probeBuildx({ env: ctx.env });
  if (bx.available) {
    const f = bx.facts;
    const store =
      f.driver === 'docker'
        ? f.containerdStore
          ? ', containerd image store'
          : ', classic image store: one platform per image, no registry cache export, no attestations'
        : '';
    return {
      name: 'buildx',
      status: 'ok',
      detail: `docker buildx ${bx.version}; builder ${f.name ?? '(current)'} (driver ${f.driver}${store}; ${f.platforms.join(', ') || 'no platforms listed'})`,
    };
  }
  if (/is not installed/.test(bx.why)) {
    return {
      name: 'buildx',
      status: 'warn',
      detail: 'docker buildx is not installed: the docker driver (Engine API, one build per platform) is used',
      fix: 'install the docker-buildx plugin to use bake, remote builders and attestations',
    };
  }
  const [detail, fix] = bx.why.split(/: (?=[^:]*$)/);
  return { name: 'buildx', status: 'warn', detail: `${detail}; the docker driver is used`, ...(fix ? { fix } : {}) };
}

/** Emulation for foreign platforms. */
function platformChecks(platform: string | undefined): Check[] {
  const checks: Check[] = [];
  const wanted = (platform ?? PLATFORMS.join(',')).split(',');
  for (const p of wanted) {
    if (!isPlatform(p)) continue;
    const arch = archOf(p);
    const b = { name: `qemu-${ARCH_NAMES[arch].qemu}` };
    if (arch === HOST_ARCH) {
      checks.push({ name: `platform ${p}`, status: 'ok', detail: 'native' });
      continue;
    }
    const entry = `/proc/sys/fs/binfmt_misc/${b.name}`;
    if (existsSync(entry) && /^enabled/m.test(readFileSync(entry, 'utf8'))) {
      const flags = /^flags: (\S*)/m.exec(readFileSync(entry, 'utf8'))?.[1] ?? '';
      checks.push({
        name: `platform ${p}`,
        status: flags.includes('F') ? 'ok' : 'warn',
        detail: `emulated by ${b.name} (binfmt flags ${flags || 'none'})`,
        ...(flags.includes('F') ? {} : { fix: 'register the emulator with the F (fix-binary) flag so containers can use it' }),
      });
    } else {
      checks.push({
        name: `platform ${p}`,
        status: 'fail',
        detail: `no ${b.name} binfmt handler: builds for ${p} cannot run here`,
        fix: `apt-get install qemu-user-static binfmt-support (then update-binfmts --enable), or build natively: --engine ${p}=ssh://user@host`,
      });
    }
  }
  return checks;
}

/** Registry credentials (or a project that does not load). */
async function registryCheck(ctx: Context): Promise<Check> {
  try {
    const project = await ctx.project();
    const reg = project.naming.registry;
    const loopback = /^(localhost|127\.|\[::1\])/.test(reg);
    const c = credentialsFor(reg);
    return {
      name: 'registry',
      status: c || loopback ? 'ok' : 'warn',
      detail: c
        ? `credentials for ${reg} found in the Docker config`
        : loopback
          ? `${reg} is a loopback registry (no credentials needed)`
          : `no credentials for ${reg}`,
      ...(c || loopback ? {} : { fix: `docker login ${reg}` }),
    };
  } catch (e) {
    return { name: 'project', status: 'fail', detail: (e as Error).message.split('\n')[0]! };
  }
}

/** QEMU (VM images): binaries, tools, firmware, and KVM as the last probe boot found it. */
async function qemuCheckList(ctx: Context): Promise<Check[]> {
  let root: string | undefined;
  try {
    root = (await ctx.project()).root;
  } catch {
    /* reported by registryCheck */
  }
  const { qemuChecks } = await import('../../qemu/doctor.js');
  return qemuChecks(root);
}

function printChecks(ctx: Context, checks: Check[]): void {
  if (ctx.opts.json) {
    printJson(ctx.io, checks);
    return;
  }
  const s = style(ctx.io);
  for (const c of checks) {
    const mark = c.status === 'ok' ? s.green('✔') : c.status === 'warn' ? s.yellow('!') : s.red('✖');
    ctx.io.out(`${mark} ${c.name.padEnd(16)} ${c.detail}`);
    if (c.fix) ctx.io.out(`  ${''.padEnd(16)} fix: ${c.fix}`);
  }
}
