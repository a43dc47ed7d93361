/**
 * GPU rendering of the desktop. The runtime's own detection (detect-gpu.sh, inside the container) decides:
 * with an NVIDIA GPU usable, `vglrun -d egl glxinfo -B` on the desktop's display must report an NVIDIA renderer;
 * without one the check is skipped with "no GPU" and the reason, and the desktop's software-rendering line is
 * quoted — never a silent pass.
 */
import type { Exec } from '../exec.js';
import { fail, skip } from '../types.js';

export const DETECT_GPU = '/usr/local/lib/idekube/detect-gpu.sh';

export interface GpuDetection {
  gpu: 'nvidia' | 'none';
  reason: string;
}

/** Parses detect-gpu.sh's output: `IDEKUBE_GPU='nvidia'` / `IDEKUBE_GPU_REASON='…'` (shell single quotes). */
export function parseDetection(text: string): GpuDetection | undefined {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(IDEKUBE_GPU(?:_REASON)?)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1).replace(/'\\''/g, "'");
    else if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    vars[m[1]!] = v;
  }
  if (vars.IDEKUBE_GPU !== 'nvidia' && vars.IDEKUBE_GPU !== 'none') return undefined;
  return { gpu: vars.IDEKUBE_GPU, reason: vars.IDEKUBE_GPU_REASON ?? '' };
}

export interface GlInfo {
  renderer?: string;
  vendor?: string;
  version?: string;
  direct?: boolean;
}

/** Parses `glxinfo -B` (or `eglinfo -B`) output. */
export function parseGlxinfo(text: string): GlInfo {
  const get = (re: RegExp) => re.exec(text)?.[1]?.trim();
  const info: GlInfo = {};
  const renderer = get(/OpenGL renderer string:\s*(.+)/) ?? get(/Device:\s*(.+)/);
  const vendor = get(/OpenGL vendor string:\s*(.+)/) ?? get(/EGL vendor string:\s*(.+)/);
  const version = get(/OpenGL (?:core profile )?version string:\s*(.+)/);
  const direct = get(/direct rendering:\s*(\w+)/);
  if (renderer) info.renderer = renderer;
  if (vendor) info.vendor = vendor;
  if (version) info.version = version;
  if (direct) info.direct = /^yes$/i.test(direct);
  return info;
}

/** The verdict on what the renderer probe printed, once detect-gpu found an NVIDIA GPU. */
export function rendererVerdict(info: GlInfo, how: string): string {
  if (!info.renderer) fail(`detect-gpu.sh found an NVIDIA GPU but \`${how}\` printed no OpenGL renderer`);
  // older drivers name the board without "NVIDIA" (GeForce GTX 1080/PCIe/SSE2): the vendor string tells then
  const software = /llvmpipe|softpipe|swrast|software/i.test(info.renderer);
  if (software || !/nvidia/i.test(`${info.renderer} ${info.vendor ?? ''}`)) {
    fail(
      `detect-gpu.sh found an NVIDIA GPU but \`${how}\` renders with ${JSON.stringify(info.renderer)}${software ? ' (software rendering)' : ''}, not NVIDIA`,
    );
  }
  return `NVIDIA rendering through VirtualGL/EGL: \`${how}\` → ${info.renderer}${info.version ? ` (OpenGL ${info.version})` : ''}`;
}

/** Finds vglrun in the image (PATH or /opt/VirtualGL/bin). Fixed script. */
const FIND_VGLRUN = 'command -v vglrun 2>/dev/null || { [ -x /opt/VirtualGL/bin/vglrun ] && echo /opt/VirtualGL/bin/vglrun; } || true';

export interface GpuCheckInput {
  exec: Exec;
  logs: () => Promise<string>;
  /** The desktop user (the renderer probe runs as them, on their display). */
  user: string;
  /** X display of the desktop (`:1`). */
  display: string;
  /** VGL_DISPLAY from the image env (default egl). */
  vglDisplay?: string;
}

export async function checkGpu(input: GpuCheckInput): Promise<string> {
  const r = await input.exec([DETECT_GPU], { timeoutMs: 20_000 });
  if (r.code === 126 || r.code === 127)
    fail(`the runtime's ${DETECT_GPU} is missing from the image (exit ${r.code}): GPU detection cannot run`);
  const det = parseDetection(r.stdout);
  if (!det) fail(`${DETECT_GPU} printed no IDEKUBE_GPU=nvidia|none (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 160)}`);
  if (det.gpu === 'none') {
    const line = (await input.logs().catch(() => '')).split('\n').find((l) => /rendering: software/i.test(l));
    skip(
      `no GPU (${det.reason || 'detect-gpu.sh found none'})${line ? `; the desktop renders in software: ${line.replace(/^\[[^\]]+\]\s*/, '')}` : ''}`,
    );
  }
  const found = (await input.exec(['sh', '-c', FIND_VGLRUN], { timeoutMs: 10_000 })).stdout.trim();
  if (!found) fail(`detect-gpu.sh found an NVIDIA GPU (${det.reason}) but vglrun is not installed: OpenGL applications render in software`);
  const vglDisplay = input.vglDisplay || 'egl';
  const argv = [found, '-d', vglDisplay, 'glxinfo', '-B'];
  const how = `vglrun -d ${vglDisplay} glxinfo -B`;
  const g = await input.exec(argv, { user: input.user, env: { DISPLAY: input.display }, timeoutMs: 60_000 });
  if (g.code !== 0)
    fail(
      `detect-gpu.sh found an NVIDIA GPU (${det.reason}) but \`${how}\` failed (exit ${g.code}): ${(g.stderr || g.stdout).trim().split('\n').slice(-2).join(' ')}`,
    );
  return rendererVerdict(parseGlxinfo(g.stdout), how);
}
