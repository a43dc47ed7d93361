/**
 * Warnings and notes found while reading the project: things that are not errors (exit 0) but that the user should
 * see on stderr (a `flavour.yaml` that is not read, a `.dockerargs` key nothing reads). They are collected here and
 * printed by the CLI as soon as the project is loaded (`warning: file:line: …`), once each.
 */
import type { Location } from './errors.js';

export interface Warning {
  kind: 'warning' | 'note';
  message: string;
  location?: Location;
  fix?: string;
}

const pending: Warning[] = [];
const seen = new Set<string>();

function keyOf(w: Warning): string {
  return `${w.kind}\0${w.location?.file ?? ''}\0${w.location?.line ?? ''}\0${w.message}`;
}

export function warn(message: string, location?: Location, fix?: string): void {
  add({ kind: 'warning', message, ...(location ? { location } : {}), ...(fix ? { fix } : {}) });
}

export function note(message: string): void {
  add({ kind: 'note', message });
}

function add(w: Warning): void {
  const k = keyOf(w);
  if (seen.has(k)) return;
  seen.add(k);
  pending.push(w);
}

/** The warnings and notes not yet taken (and forgets them). */
export function takeWarnings(): Warning[] {
  return pending.splice(0, pending.length);
}

/** `warning: file:line: message` (+ `  fix: …`). */
export function formatWarning(w: Warning): string {
  const { file, line } = w.location ?? {};
  const where = file ? `${file}${line !== undefined ? `:${line}` : ''}: ` : '';
  return `${w.kind}: ${where}${w.message}${w.fix ? `\n  fix: ${w.fix}` : ''}`;
}

/** Plain Levenshtein distance, abandoned (returns max + 1) once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `word` (case-insensitive), when it is close enough to be a typo of it. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toUpperCase();
  const max = Math.max(1, Math.min(3, Math.floor(w.length / 4)));
  let best: string | undefined;
  let bestD = max + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toUpperCase(), Math.min(bestD - 1, max));
    if (d < bestD) {
      best = c;
      bestD = d;
      if (d === 0) break;
    }
  }
  return best;
}
