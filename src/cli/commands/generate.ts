import { lstatSync, type Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { InputError } from '../../config/errors.js';
import type { Project } from '../../config/project.js';
import { isInside, kindOf, realish, shown } from '../../fs/boundary.js';
import { PACKAGE_ROOT, generateFlavor } from '../../generate/flavor.js';
import { contextSize, writeOutput } from '../../generate/write.js';
import { printJson, type Context } from '../context.js';
import { selectionOf } from '../select.js';

/** Default output folder: stable (so BuildKit and editors see the same paths run to run), one per profile. */
export function defaultOutDir(root: string, profile: string | undefined): string {
  return join(root, '.idekube', 'build', profile ?? 'default');
}

/**
 * Without a lineup: the flavors named (or every flavor) with the project's profile, into `-o DIR` or
 * `.idekube/build/<profile>`. With lineups: each selected lineup's flavors (`--all`) or the named ones it builds,
 * generated with the lineup's own project (profile: BASE_IMAGE, TAG_POSTFIX), each into its profile's folder, as
 * `idekube build` does. `-o DIR` replaces `.idekube/build`: one lineup writes into DIR itself; several lineups whose
 * profiles differ write into `DIR/<profile>` (`DIR/default` for a lineup without one), so neither overwrites the other.
 */
export async function generate(ctx: Context, names: string[], opts: { all?: boolean; output?: string }): Promise<void> {
  const project = await ctx.project();
  const { parts, qualify } = await selectionOf(ctx, names, { all: opts.all });
  const profileOf = (p: Project) => p.layered.profile?.name;
  const profiles = new Set(parts.map((part) => profileOf(part.project) ?? null));
  const given = opts.output ? outputFolder(project.root, opts.output) : undefined;
  const outOf = (p: Project): string => {
    if (given === undefined) return defaultOutDir(p.root, profileOf(p));
    if (profiles.size <= 1) return given;
    return outputFolder(project.root, join(opts.output!, profileOf(p) ?? 'default'));
  };
  // Generate everything first: a bad flavor stops the command before anything is written. Lineups that share a
  // profile share its folder (and its contexts: the same project generates the same files).
  const folders = new Map<string, { project: Project; ids: string[]; lineups: Map<string, string[]> }>();
  for (const part of parts) {
    const out = outOf(part.project);
    const folder = folders.get(out) ?? { project: part.project, ids: [], lineups: new Map<string, string[]>() };
    folders.set(out, folder);
    for (const id of part.flavors) {
      if (!folder.ids.includes(id)) folder.ids.push(id);
      if (part.lineup) folder.lineups.set(id, [...(folder.lineups.get(id) ?? []), part.lineup.name]);
    }
  }
  const written = [...folders].map(([out, f]) => ({ out, f, generated: f.ids.map((id) => generateFlavor(f.project, id)) }));
  const rows = written.flatMap(({ out, f, generated }) => {
    const stats = writeOutput(project.root, out, generated);
    return generated.flatMap((g) => {
      const row = { flavor: g.id, dir: join(out, g.id), files: g.files.length, bytes: contextSize(g), ...stats.get(g.id)! };
      const lineups = f.lineups.get(g.id);
      const { flavor, ...rest } = row;
      return lineups ? lineups.map((lineup) => ({ flavor, lineup, ...rest })) : [row];
    });
  });
  if (ctx.opts.json) return printJson(ctx.io, rows);
  for (const r of rows) {
    const label = qualify && 'lineup' in r ? `${r.lineup}:${r.flavor}` : r.flavor;
    if (!ctx.opts.quiet)
      ctx.io.out(
        `${label.padEnd(28)} ${relative(process.cwd(), r.dir) || '.'}  (${r.files} files, ${(r.bytes / 1024).toFixed(1)} KiB, ${r.written} written, ${r.removed} removed)`,
      );
  }
}

/** `-o DIR`, checked: a folder (new or existing), never the project's sources. */
function outputFolder(root: string, given: string): string {
  const out = resolve(given);
  const overlap = sourceOverlap(root, out);
  if (overlap) {
    // idekube prunes its output and reads its sources: the same folder for both deletes sources or feeds contexts back into themselves
    throw new InputError(
      `-o ${given} ${overlap}: the output folder can be neither the project's sources, nor inside them, nor hold them (idekube deletes stale files in it)`,
      undefined,
      'omit -o (the default is .idekube/build/<profile>/), or name a new folder outside flavors/ and artifacts/',
    );
  }
  let st: Stats | undefined;
  try {
    st = lstatSync(out, { throwIfNoEntry: false });
  } catch {
    st = undefined; // ENOTDIR and the like: said when the folder is created
  }
  if (st && !st.isDirectory() && !st.isSymbolicLink()) {
    throw new InputError(
      `-o ${given} is ${kindOf(out, st)}, not a folder`,
      { file: shown(root, out) },
      'name a new or empty folder for the generated contexts',
    );
  }
  return out;
}

/** How `out` overlaps what a build reads (flavors/, artifacts/, .dockerargs*, idekube's own artifacts/), as written and with links resolved. */
function sourceOverlap(root: string, out: string): string | undefined {
  for (const [r, o] of [
    [root, out],
    [realish(root), realish(out)],
  ] as const) {
    if (isInside(o, r)) return 'holds the project';
    const first = relative(r, o).split(sep)[0]!;
    if (isInside(r, o) && (first === 'flavors' || first === 'artifacts' || first.startsWith('.dockerargs')))
      return `is ${o === join(r, first) ? '' : 'inside '}the project's ${first}${first.startsWith('.dockerargs') ? '' : '/'}`;
    for (const pkg of [join(PACKAGE_ROOT, 'artifacts'), join(realish(PACKAGE_ROOT), 'artifacts')]) {
      if (isInside(pkg, o) || isInside(o, pkg)) return `overlaps idekube's own ${pkg}`;
    }
  }
  return undefined;
}
