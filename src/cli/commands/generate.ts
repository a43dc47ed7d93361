import { join, relative, resolve } from 'node:path';
import { selectFlavors } from '../../config/project.js';
import { generateFlavor } from '../../generate/flavor.js';
import { contextSize, writeContext } from '../../generate/write.js';
import { printJson, type Context } from '../context.js';

/** Default output folder: stable (so BuildKit and editors see the same paths run to run), one per profile. */
export function defaultOutDir(root: string, profile: string | undefined): string {
  return join(root, '.idekube', 'build', profile ?? 'default');
}

export async function generate(ctx: Context, names: string[], opts: { all?: boolean; output?: string }): Promise<void> {
  const project = await ctx.project();
  const ids = selectFlavors(project, names, { all: opts.all, env: ctx.env });
  // Generate everything first: a bad flavor stops the command before anything is written.
  const generated = ids.map((id) => generateFlavor(project, id));
  const out = opts.output ? resolve(opts.output) : defaultOutDir(project.root, project.layered.profile?.name);
  const rows = generated.map((g) => {
    const dir = join(out, g.id);
    const stats = writeContext(g, dir);
    return { flavor: g.id, dir, files: g.files.length, bytes: contextSize(g), ...stats };
  });
  if (ctx.opts.json) return printJson(ctx.io, rows);
  for (const r of rows) {
    if (!ctx.opts.quiet) ctx.io.out(`${r.flavor.padEnd(28)} ${relative(process.cwd(), r.dir) || '.'}  (${r.files} files, ${(r.bytes / 1024).toFixed(1)} KiB, ${r.written} written, ${r.removed} removed)`);
  }
}
