import { allLayers, platformsOf, servicesOf } from '../../config/catalog.js';
import { parentOf } from '../../config/model.js';
import { printJson, style, type Context } from '../context.js';

export async function list(ctx: Context): Promise<void> {
  const { catalog } = await ctx.project();
  // allLayers and services only for --json: they grow with the depth of each flavor (a deep chain made `list` quadratic)
  const full = Boolean(ctx.opts.json);
  const rows = catalog.order.map((id) => {
    const f = catalog.flavors.get(id)!;
    return {
      id,
      parent: parentOf(f) ?? null,
      from: 'image' in f.from ? f.from.image : null,
      platforms: platformsOf(catalog, id),
      layers: f.layers,
      ...(full ? { allLayers: allLayers(catalog, id).map((l) => l.name), services: servicesOf(catalog, id).map((s) => s.name) } : {}),
      file: f.file,
      ...(f.description ? { description: f.description } : {}),
    };
  });
  if (full) return printJson(ctx.io, rows);
  const s = style(ctx.io);
  if (!ctx.io.isTTY) {
    // One line per flavor, tab separated: easy to grep and cut in CI logs.
    for (const r of rows) ctx.io.out([r.id, r.parent ?? `image:${r.from}`, r.platforms.join(','), r.layers.join(',')].join('\t'));
    return;
  }
  const children = new Map<string | null, typeof rows>();
  for (const r of rows) {
    const kids = children.get(r.parent);
    if (kids) kids.push(r);
    else children.set(r.parent, [r]);
  }
  const width = rows.reduce((w, r) => Math.max(w, r.id.length), 0) + 8;
  // depth first with an explicit stack: a chain thousands deep must not overflow the call stack
  const stack: Array<{ r: (typeof rows)[number]; indent: string; branch: string; childIndent: string }> = [];
  const pushKids = (parent: string | null, indent: string) => {
    const kids = children.get(parent) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) {
      const last = i === kids.length - 1;
      stack.push({ r: kids[i]!, indent, branch: parent === null ? '' : last ? '└─ ' : '├─ ', childIndent: parent === null ? indent : indent + (last ? '   ' : '│  ') });
    }
  };
  pushKids(null, '');
  while (stack.length) {
    const { r, indent, branch, childIndent } = stack.pop()!;
    const label = `${indent}${branch}${r.id}`;
    const arch = r.platforms.map((p) => p.split('/')[1]).join(',');
    ctx.io.out(`${s.bold(label)}${' '.repeat(Math.max(1, width - label.length))}${s.cyan(arch.padEnd(12))}${s.dim(r.layers.join(' '))}`);
    pushKids(r.id, childIndent);
  }
}
