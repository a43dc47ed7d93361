import { allLayers, platformsOf, servicesOf } from '../../config/catalog.js';
import type { Lineup } from '../../config/lineups.js';
import { parentOf, type Catalog, type Platform } from '../../config/model.js';
import { note } from '../../config/warnings.js';
import { printJson, style, type Context } from '../context.js';
import { selectionOf } from '../select.js';

/**
 * Without a lineup: every flavor of the catalog. With `--lineup` (or IDEKUBE_LINEUP, or a profile naming its lineup):
 * each selected lineup's flavors, with the platforms that lineup builds them for, and the lineup's name (a header per
 * lineup on a terminal, a fifth column otherwise, a `lineup` field with --json).
 */
export async function list(ctx: Context): Promise<void> {
  const { parts } = await selectionOf(ctx, [], { all: true });
  // allLayers and services only for --json: they grow with the depth of each flavor (a deep chain made `list` quadratic)
  const full = Boolean(ctx.opts.json);
  const groups = parts.map((part) => ({
    lineup: part.lineup,
    rows: rowsOf(part.project.catalog, part.lineup ? part.flavors : part.project.catalog.order, full, part.lineup),
  }));
  if (full)
    return printJson(
      ctx.io,
      groups.flatMap((g) => g.rows),
    );
  const s = style(ctx.io);
  if (!ctx.io.isTTY) {
    // One line per flavor, tab separated: easy to grep and cut in CI logs (the lineup, when one is selected, last).
    for (const g of groups)
      for (const r of g.rows)
        ctx.io.out(
          [r.id, r.parent ?? `image:${r.from}`, r.platforms.join(','), r.layers.join(','), ...(r.lineup ? [r.lineup] : [])].join('\t'),
        );
    return;
  }
  const width = groups.reduce((w, g) => g.rows.reduce((x, r) => Math.max(x, r.id.length), w), 0) + 8;
  for (const g of groups) printTree(ctx, s, g, width);
}

/** One row per flavor; with a lineup, only the platforms it builds (a flavor with none left is noted and dropped). */
function rowsOf(catalog: Catalog, ids: readonly string[], full: boolean, lineup?: Lineup) {
  return ids.flatMap((id) => {
    const f = catalog.flavors.get(id)!;
    let platforms: Platform[] = platformsOf(catalog, id);
    if (lineup) {
      const declared = platforms;
      platforms = declared.filter((p) => lineup.platforms.includes(p));
      if (!platforms.length) {
        note(
          `${id}: not in lineup ${lineup.name}'s list here, it builds ${declared.join(', ')} and the lineup ${lineup.platforms.join(', ')}`,
        );
        return [];
      }
    }
    return [
      {
        id,
        ...(lineup ? { lineup: lineup.name } : {}),
        parent: parentOf(f) ?? null,
        from: 'image' in f.from ? f.from.image : null,
        platforms,
        layers: f.layers,
        ...(full ? { allLayers: allLayers(catalog, id).map((l) => l.name), services: servicesOf(catalog, id).map((s) => s.name) } : {}),
        file: f.file,
        ...(f.description ? { description: f.description } : {}),
      },
    ];
  });
}

type Row = ReturnType<typeof rowsOf>[number];

/** A lineup's header (when one is selected), then its flavors in a tree under their parents. */
function printTree(ctx: Context, s: ReturnType<typeof style>, g: { lineup?: Lineup | undefined; rows: Row[] }, width: number): void {
  if (g.lineup) {
    const l = g.lineup;
    ctx.io.out(
      s.bold(
        `lineup ${l.name} (${l.scheme}, ${l.profile ? `profile ${l.profile}` : 'no profile'}: ${l.platforms.map((p) => p.split('/')[1]).join(', ')})`,
      ),
    );
  }
  // a flavor whose parent is outside the list (another lineup's) starts a tree of its own
  const ids = new Set(g.rows.map((r) => r.id));
  const children = new Map<string | null, typeof g.rows>();
  for (const r of g.rows) {
    const key = r.parent !== null && ids.has(r.parent) ? r.parent : null;
    const kids = children.get(key);
    if (kids) kids.push(r);
    else children.set(key, [r]);
  }
  // depth first with an explicit stack: a chain thousands deep must not overflow the call stack
  const stack: Array<{ r: (typeof g.rows)[number]; indent: string; branch: string; childIndent: string }> = [];
  const pushKids = (parent: string | null, indent: string) => {
    const kids = children.get(parent) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) {
      const last = i === kids.length - 1;
      stack.push({
        r: kids[i]!,
        indent,
        branch: parent === null ? '' : last ? '└─ ' : '├─ ',
        childIndent: parent === null ? indent : indent + (last ? '   ' : '│  '),
      });
    }
  };
  pushKids(null, g.lineup ? '  ' : '');
  while (stack.length) {
    const { r, indent, branch, childIndent } = stack.pop()!;
    const label = `${indent}${branch}${r.id}`;
    const arch = r.platforms.map((p) => p.split('/')[1]).join(',');
    ctx.io.out(`${s.bold(label)}${' '.repeat(Math.max(1, width - label.length))}${s.cyan(arch.padEnd(12))}${s.dim(r.layers.join(' '))}`);
    pushKids(r.id, childIndent);
  }
}
