import { allLayers, platformsOf, servicesOf } from '../../config/catalog.js';
import { parentOf } from '../../config/model.js';
import { printJson, style, type Context } from '../context.js';

export async function list(ctx: Context): Promise<void> {
  const { catalog } = await ctx.project();
  const rows = catalog.order.map((id) => {
    const f = catalog.flavors.get(id)!;
    return {
      id,
      parent: parentOf(f) ?? null,
      from: 'image' in f.from ? f.from.image : null,
      platforms: platformsOf(catalog, id),
      layers: f.layers,
      allLayers: allLayers(catalog, id).map((l) => l.name),
      services: servicesOf(catalog, id).map((s) => s.name),
      file: f.file,
      ...(f.description ? { description: f.description } : {}),
    };
  });
  if (ctx.opts.json) return printJson(ctx.io, rows);
  const s = style(ctx.io);
  if (!ctx.io.isTTY) {
    // One line per flavor, tab separated: easy to grep and cut in CI logs.
    for (const r of rows) ctx.io.out([r.id, r.parent ?? `image:${r.from}`, r.platforms.join(','), r.layers.join(',')].join('\t'));
    return;
  }
  const children = new Map<string | null, typeof rows>();
  for (const r of rows) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const width = Math.max(...rows.map((r) => r.id.length)) + 8;
  const draw = (parent: string | null, indent: string): void => {
    const kids = children.get(parent) ?? [];
    kids.forEach((r, i) => {
      const last = i === kids.length - 1;
      const branch = parent === null ? '' : last ? '└─ ' : '├─ ';
      const label = `${indent}${branch}${r.id}`;
      const arch = r.platforms.map((p) => p.split('/')[1]).join(',');
      ctx.io.out(`${s.bold(label)}${' '.repeat(Math.max(1, width - label.length))}${s.cyan(arch.padEnd(12))}${s.dim(r.layers.join(' '))}`);
      draw(r.id, parent === null ? indent : indent + (last ? '   ' : '│  '));
    });
  };
  draw(null, '');
}
