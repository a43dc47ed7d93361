#!/usr/bin/env node
// Figures on the shape of src/: the longest functions, type casts, `any`, non-null assertions, long lines.
// Usage: node scripts/code-shape.mjs [DIR] [--top N]   (DIR: a checkout, default this one; prints, asserts nothing)
// Function spans come from Biome's noExcessiveLinesPerFunction (TypeScript 7 has no JS API to walk the AST).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 10;
const root = resolve(args.find((a, i) => !a.startsWith('--') && i !== topAt + 1) ?? new URL('..', import.meta.url).pathname);
const biome = new URL('../node_modules/.bin/biome', import.meta.url).pathname;

const files = [];
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts')) files.push(p);
  }
})(join(root, 'src'));

let lines = 0,
  over120 = 0,
  over160 = 0,
  over200 = 0,
  casts = 0,
  asUnknown = 0,
  asNever = 0,
  anys = 0,
  bangs = 0;
const text = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  text.set(f, src.split('\n'));
  for (const l of src.split('\n')) {
    lines++;
    if (l.length > 120) over120++;
    if (l.length > 160) over160++;
    if (l.length > 200) over200++;
    // imports and re-exports rename with `as`: not casts
    const code = /^\s*(import|export)\b.*\bfrom\b|^\s*import\b/.test(l)
      ? ''
      : l.replace(/^\s*(\/\/|\*).*$/, '').replace(/'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"/g, "''");
    casts += (code.match(/\)?\s\bas\s+(?!const\b)[A-Za-z_{([]/g) ?? []).length;
    asUnknown += (code.match(/\bas unknown as\b/g) ?? []).length;
    asNever += (code.match(/\bas never\b/g) ?? []).length;
    anys += (code.match(/[:<,|(]\s*any\b(?!\w)/g) ?? []).length;
    bangs += (code.match(/[\w)\]]!(?=[.;,)\]\s[]|$)/g) ?? []).length;
  }
}

// every function's span, from Biome with a limit of 1 line
const cfg = mkdtempSync(join(tmpdir(), 'code-shape-'));
writeFileSync(
  join(cfg, 'biome.json'),
  JSON.stringify({
    formatter: { enabled: false },
    assist: { enabled: false },
    linter: {
      enabled: true,
      rules: { preset: 'none', complexity: { noExcessiveLinesPerFunction: { level: 'error', options: { maxLines: 1 } } } },
    },
  }),
);
let out;
try {
  out = execFileSync(biome, ['lint', `--config-path=${cfg}`, '--reporter=json', '--max-diagnostics=none', 'src'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
} catch (e) {
  out = e.stdout; // biome exits 1 when it reports anything
} finally {
  rmSync(cfg, { recursive: true, force: true });
}
const fns = JSON.parse(out)
  .diagnostics.filter((d) => d.category === 'lint/complexity/noExcessiveLinesPerFunction')
  .map((d) => {
    const file = d.location.path;
    const first = text.get(join(root, file))?.[d.location.start.line - 1] ?? '';
    const name = /(?:function\s+|const\s+|let\s+|^\s*(?:async\s+)?|\b)([A-Za-z_$][\w$]*)\s*(?:=|\(|<)/.exec(first)?.[1] ?? '(anonymous)';
    return { name, where: `${file}:${d.location.start.line}`, lines: d.location.end.line - d.location.start.line + 1 };
  });
fns.sort((x, y) => y.lines - x.lines);
console.log(`src: ${files.length} files, ${lines} lines, ${fns.length} functions over 1 line`);
console.log(`casts (as) ${casts} (as unknown as ${asUnknown}, as never ${asNever}); any ${anys}; non-null ! ${bangs}`);
console.log(`lines over 120 characters ${over120}, over 160 ${over160}, over 200 ${over200}`);
console.log(`functions over 60 lines ${fns.filter((f) => f.lines > 60).length}, over 100 ${fns.filter((f) => f.lines > 100).length}`);
console.log(`longest ${top}:`);
for (const f of fns.slice(0, top)) console.log(`  ${String(f.lines).padStart(4)}  ${f.name}  ${f.where}`);
