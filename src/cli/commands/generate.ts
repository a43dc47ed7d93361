import { lstatSync, type Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { InputError } from '../../config/errors.js';
import { selectFlavors } from '../../config/project.js';
import { isInside, kindOf, realish, shown } from '../../fs/boundary.js';
import { PACKAGE_ROOT, generateFlavor } from '../../generate/flavor.js';
import { contextSize, writeOutput } from '../../generate/write.js';
import { printJson, type Context } from '../context.js';

/** Default output folder: stable (so BuildKit and editors see the same paths run to run), one per profile. */
export function defaultOutDir(root: string, profile: string | undefined): string {
  return join(root, '.idekube', 'build', profile ?? 'default');
}

export async function generate(ctx: Context, names: string[], opts: { all?: boolean; output?: string }): Promise<void> {
  const project = await ctx.project();
  const ids = selectFlavors(project, names, { all: opts.all, env: ctx.env });
  const out = opts.output ? outputFolder(project.root, opts.output) : defaultOutDir(project.root, project.layered.profile?.name);
  // Generate everything first: a bad flavor stops the command before anything is written.
  const generated = ids.map((id) => generateFlavor(project, id));
  const stats = writeOutput(project.root, out, generated);
  const rows = generated.map((g) => ({ flavor: g.id, dir: join(out, g.id), files: g.files.length, bytes: contextSize(g), ...stats.get(g.id)! }));
  if (ctx.opts.json) return printJson(ctx.io, rows);
  for (const r of rows) {
    if (!ctx.opts.quiet) ctx.io.out(`${r.flavor.padEnd(28)} ${relative(process.cwd(), r.dir) || '.'}  (${r.files} files, ${(r.bytes / 1024).toFixed(1)} KiB, ${r.written} written, ${r.removed} removed)`);
  }
}

/** `-o DIR`, checked: a folder (new or existing), never the project's sources. */
function outputFolder(root: string, given: string): string {
  const out = resolve(given);
  const overlap = sourceOverlap(root, out);
  if (overlap) {
    // idekube prunes its output and reads its sources: the same folder for both deletes sources or feeds contexts back into themselves
    throw new InputError(`-o ${given} ${overlap}: the output folder can be neither the project's sources, nor inside them, nor hold them (idekube deletes stale files in it)`, undefined, 'omit -o (the default is .idekube/build/<profile>/), or name a new folder outside flavors/ and artifacts/');
  }
  let st: Stats | undefined;
  try {
    st = lstatSync(out, { throwIfNoEntry: false });
  } catch {
    st = undefined; // ENOTDIR and the like: said when the folder is created
  }
  if (st && !st.isDirectory() && !st.isSymbolicLink()) {
    throw new InputError(`-o ${given} is ${kindOf(out, st)}, not a folder`, { file: shown(root, out) }, 'name a new or empty folder for the generated contexts');
  }
  return out;
}

/** How `out` overlaps what a build reads (flavors/, artifacts/, .dockerargs*, idekube's own artifacts/), as written and with links resolved. */
function sourceOverlap(root: string, out: string): string | undefined {
  for (const [r, o] of [[root, out], [realish(root), realish(out)]] as const) {
    if (isInside(o, r)) return 'holds the project';
    const first = relative(r, o).split(sep)[0]!;
    if (isInside(r, o) && (first === 'flavors' || first === 'artifacts' || first.startsWith('.dockerargs'))) return `is ${o === join(r, first) ? '' : 'inside '}the project's ${first}${first.startsWith('.dockerargs') ? '' : '/'}`;
    for (const pkg of [join(PACKAGE_ROOT, 'artifacts'), join(realish(PACKAGE_ROOT), 'artifacts')]) {
      if (isInside(pkg, o) || isInside(o, pkg)) return `overlaps idekube's own ${pkg}`;
    }
  }
  return undefined;
}
