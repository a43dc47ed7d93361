/**
 * `--screenshot FILE`: opens the noVNC client in headless Chromium (playwright-core), waits (bounded) until the
 * remote desktop is drawn — the canvas is not one flat colour — and saves the canvas as a PNG: the picture a
 * maintainer wants to see before publishing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from '../types.js';
import type { VerifyService } from '../types.js';
import { poll, sleep } from '../wait.js';
import { vncRoutes } from './vnc.js';

export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** Flags for a headless, offline, sandbox-less Chromium (CI containers run as root). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function findChromium(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (explicit) return explicit;
  if (env.IDEKUBE_CHROMIUM) return env.IDEKUBE_CHROMIUM;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export function clientUrl(port: number, service: VerifyService): string {
  const { page, socket } = vncRoutes(service);
  const base = page.path.endsWith('/') ? page.path : `${page.path}/`;
  return `http://127.0.0.1:${port}${base}vnc.html?autoconnect=1&resize=scale&reconnect=1&path=${socket.path.replace(/^\//, '')}`;
}

export interface CanvasStats {
  width: number;
  height: number;
  /** Distinct colours (5 bits per channel) on a sampling grid. */
  colors: number;
  /** Share of the most frequent colour, 0..1. */
  top: number;
  status: string;
}

/** Runs in the page: samples noVNC's canvas. A fixed expression (no outside data in it). */
export const CANVAS_STATS = `(() => {
  const status = (document.querySelector('#noVNC_status') || {}).textContent || '';
  const c = document.querySelector('#noVNC_container canvas') || document.querySelector('canvas');
  if (!c || !c.width || !c.height) return { width: 0, height: 0, colors: 0, top: 1, status };
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Map();
  const step = Math.max(2, Math.floor(Math.min(c.width, c.height) / 100));
  let total = 0;
  for (let y = 0; y < c.height; y += step) for (let x = 0; x < c.width; x += step) {
    const i = (y * c.width + x) * 4;
    const k = ((d[i] >> 3) << 10) | ((d[i + 1] >> 3) << 5) | (d[i + 2] >> 3);
    seen.set(k, (seen.get(k) || 0) + 1);
    total++;
  }
  let max = 0;
  for (const v of seen.values()) if (v > max) max = v;
  return { width: c.width, height: c.height, colors: seen.size, top: total ? max / total : 1, status };
})()`;

/** A drawn desktop: several colours, and no single colour covering (almost) everything. */
export function looksDrawn(s: CanvasStats): boolean {
  return s.width > 0 && s.colors >= 12 && s.top < 0.985;
}

export function describeStats(s: CanvasStats): string {
  if (!s.width) return `no noVNC canvas${s.status ? ` (noVNC says ${JSON.stringify(s.status.trim())})` : ''}`;
  return `${s.width}×${s.height} canvas, ${s.colors} colours, the most frequent covering ${(s.top * 100).toFixed(1)}%${s.status ? `, noVNC says ${JSON.stringify(s.status.trim())}` : ''}`;
}

export interface ScreenshotInput {
  port: number;
  service: VerifyService;
  file: string;
  chromium?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

export async function takeScreenshot(input: ScreenshotInput): Promise<string> {
  const exe = findChromium(input.chromium, input.env);
  if (!exe || !existsSync(exe))
    fail(
      `no Chromium to take the screenshot with${exe ? ` (${exe} does not exist)` : ''}: install chromium, or pass --chromium PATH (or IDEKUBE_CHROMIUM)`,
    );
  const { chromium } = await import('playwright-core');
  const url = clientUrl(input.port, input.service);
  const browser = await chromium
    .launch({ executablePath: exe, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
    .catch((e: Error) => fail(`cannot start ${exe}: ${e.message.split('\n')[0]}`));
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // what went wrong in the page, for the failure message
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message.split('\n')[0]}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text().slice(0, 160)}`);
    });
    let failedLoads = 0;
    page.on('requestfailed', (r) => {
      failedLoads++;
      problems.push(`request failed: ${r.url().replace(/^http:\/\/127\.0\.0\.1:\d+/, '')} (${r.failure()?.errorText ?? '?'})`);
    });
    const open = async () => {
      failedLoads = 0;
      await page
        .goto(url, { timeout: input.timeoutMs, waitUntil: 'load' })
        .catch((e: Error) => fail(`cannot open ${url}: ${e.message.split('\n')[0]}`));
    };
    await open();
    let opened = Date.now();
    let reloads = 0;
    let last: CanvasStats | undefined;
    let good = 0;
    const { value } = await poll(
      async () => {
        // a string expression: playwright cannot know what it returns (CANVAS_STATS builds a CanvasStats)
        last = (await page.evaluate(CANVAS_STATS)) as CanvasStats;
        good = looksDrawn(last) ? good + 1 : 0;
        // Chromium aborts requests when network interfaces change (the engine adding a container's veth):
        // a client whose scripts did not all load never connects, so load it again (a few times, bounded)
        if (!last.width && failedLoads > 0 && Date.now() - opened > 3000 && reloads < 5) {
          reloads++;
          await open();
          opened = Date.now();
        }
        return good >= 2 ? last : undefined;
      },
      { timeoutMs: input.timeoutMs, intervalMs: 500 },
    );
    if (!value)
      fail(
        `the desktop was not drawn within ${Math.round(input.timeoutMs / 1000)} s in ${url}: ${last ? describeStats(last) : 'the page did not load'}${problems.length ? `; ${[...new Set(problems)].slice(0, 4).join('; ')}` : ''}`,
      );
    await sleep(1500); // let the panel and icons finish drawing
    const dataUrl = (await page.evaluate(
      `(document.querySelector('#noVNC_container canvas') || document.querySelector('canvas')).toDataURL('image/png')`,
    )) as string;
    const png = Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64');
    mkdirSync(dirname(input.file), { recursive: true });
    writeFileSync(input.file, png);
    const final = (await page.evaluate(CANVAS_STATS)) as CanvasStats;
    return `${input.file}: ${describeStats({ ...final, status: '' })} (${png.length} bytes, from ${url})`;
  } finally {
    await browser.close().catch(() => {});
  }
}
