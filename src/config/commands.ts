/**
 * The commands an image's layers declare (`commands:` in a layer), resolved with the build args of the flavor that
 * ran the layer: what `idekube test` types into the image's web terminal, and what /etc/idekube/flavor.json lists.
 */
import { lineage } from './catalog.js';
import type { LayerCommand } from './model.js';
import type { Project } from './project.js';
import { requireValues, resolveArgs, substitute } from './resolve.js';

/** Inherited layers' commands first; a later layer's command of the same name replaces the earlier one. */
export function commandsOf(project: Project, id: string): LayerCommand[] {
  const byName = new Map<string, LayerCommand>();
  for (const f of lineage(project.catalog, id)) {
    const layers = f.layers.map((n) => project.catalog.layers.get(n)!).filter((l) => l.commands.length);
    if (!layers.length) continue;
    const args = requireValues(f.id, resolveArgs(project.catalog, project.layered, f.id));
    for (const l of layers) {
      for (const c of l.commands) {
        byName.delete(c.name);
        byName.set(c.name, {
          name: c.name,
          layer: c.layer,
          run: substitute(c.run, args),
          ...(c.expect !== undefined ? { expect: substitute(c.expect, args) } : {}),
        });
      }
    }
  }
  return [...byName.values()];
}
