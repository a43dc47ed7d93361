/** Output of `idekube test`: one line per check (pass / FAIL / skipped: why), a summary, and the JSON report. */
import type { CheckResult, ImageReport, TestReport } from './types.js';

export function subjectLabel(r: Pick<ImageReport, 'flavor' | 'image' | 'platform'>): string {
  return `${r.flavor ?? r.image}@${r.platform}`;
}

const WORD: Record<CheckResult['status'], string> = { pass: 'pass', fail: 'FAIL', skipped: 'skipped' };

export function checkLine(r: ImageReport, c: CheckResult, width = 18): string {
  const [first, ...rest] = c.message.split('\n');
  const head = `${subjectLabel(r)}  ${c.name.padEnd(width)} ${WORD[c.status]}: ${first ?? ''}`;
  return rest.length ? `${head}\n${rest.map((l) => `    | ${l}`).join('\n')}` : head;
}

export function summaryLine(r: ImageReport): string {
  const n = (s: CheckResult['status']) => r.checks.filter((c) => c.status === s).length;
  return `${subjectLabel(r)}: ${r.passed ? 'passed' : 'FAILED'} — ${n('pass')} passed, ${n('fail')} failed, ${n('skipped')} skipped in ${(r.durationMs / 1000).toFixed(1)} s`;
}

export function imageLines(r: ImageReport): string[] {
  const width = Math.max(18, ...r.checks.map((c) => c.name.length));
  const lines = r.checks.map((c) => checkLine(r, c, width));
  if (r.screenshot) lines.push(`${subjectLabel(r)}  screenshot saved to ${r.screenshot}`);
  for (const k of r.kept) lines.push(`${subjectLabel(r)}  kept ${k}`);
  lines.push(summaryLine(r));
  return lines;
}

export function makeReport(images: ImageReport[], started: number): TestReport {
  return { passed: images.length > 0 && images.every((i) => i.passed), images, durationMs: Date.now() - started };
}

/** Where the screenshot of one desktop image goes: FILE itself for one, FILE-<flavor>-<arch>.png for several. */
export function screenshotPath(file: string, label: string, several: boolean): string {
  if (!several) return file;
  const m = /^(.*?)(\.png)?$/i.exec(file)!;
  return `${m[1]}-${label.replace(/[^A-Za-z0-9_.-]+/g, '-')}${m[2] ?? '.png'}`;
}
