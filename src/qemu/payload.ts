/**
 * What provisioning uploads to a VM, made from the same flavor manifest as the container image:
 *
 *   /tmp/idekube/layers/<layer>/   artifacts/layers/<layer> (as bind-mounted in a Docker build)
 *   /tmp/idekube/lib/              the script library (the project's artifacts/lib, else idekube's)
 *   /tmp/idekube/provision.sh      the driver that runs in the guest (artifacts/qemu/provision.sh)
 *   /tmp/idekube/guest/            files every VM gets (seed and growfs units, SSH host-key drop-in)
 *   /tmp/idekube/files/            generated: nginx conf.d/idekube.conf, systemd units, env files, flavor.json
 *   /tmp/idekube/vm-step/          the flavor's VM-only step (flavors/<f>/<v>/qemu/), when it has one
 *   /tmp/idekube/plan/             data for the driver: steps, and per step its env (NUL-separated
 *                                  KEY=VALUE), its script and its copy: entries — values are never
 *                                  pasted into shell text.
 *
 * The steps are the layers this disk adds (a derived flavor starts from its parent's disk), each run with
 * exactly what its Docker RUN sees: the build args declared so far in its flavor, and the ENV of every
 * earlier layer and parent manifest.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lineage, servicesOf } from '../config/catalog.js';
import { InputError } from '../config/errors.js';
import type { LayerDef } from '../config/model.js';
import type { Project } from '../config/project.js';
import { requireValues, resolveArgs } from '../config/resolve.js';
import { artifactsFolder, treeFiles } from '../generate/flavor.js';
import { healthConfig, landingPage, tokenPage } from '../generate/landing.js';
import { NGINX_RUNTIME_DIR, WWW_DIR, nginxConfig, nginxRuntimeDefaults } from '../generate/services.js';
import { qemuArtifacts } from './artifacts.js';
import { hashTree } from './cache-key.js';
import { environmentFile, profileScript, walkEnv } from './env.js';
import { vmServices } from './units.js';

export interface ProvisionStep {
  index: number;
  layer: string;
  run?: string;
  env: Record<string, string>;
  copy: Array<{ src: string; dest: string; chown: string }>;
}

export interface GeneratedFile {
  path: string;
  text: string;
  mode: number;
}

export interface ProvisionPlan {
  flavorId: string;
  /** Layers whose folders are uploaded. */
  layers: LayerDef[];
  steps: ProvisionStep[];
  files: GeneratedFile[];
  units: string[];
  systemUnits: string[];
  /** flavors/<f>/<v>/qemu when present. */
  vmStepDir?: string;
  vmScript?: boolean;
  playbook?: boolean;
  /** Resolved build args of the flavor (every key its layers read). */
  args: Record<string, string>;
}

const LAYER_NAME = /^[a-z0-9][a-z0-9-]*$/;

function checkRelative(path: string, what: string, where: { file: string }): void {
  if (path.includes('\0') || path.includes('\n') || path.split('/').includes('..')) {
    throw new InputError(`${what} ${JSON.stringify(path)} must be a plain relative path`, where);
  }
}

/** The provisioning plan of `flavorId`; `ownOnly`: only its own layers run (its parent's disk has the rest). */
export function provisionPlan(project: Project, flavorId: string, ownOnly: boolean): ProvisionPlan {
  const { catalog } = project;
  const args = requireValues(flavorId, resolveArgs(catalog, project.layered, flavorId));
  const chain = lineage(catalog, flavorId);
  const steps: ProvisionStep[] = [];
  const layers: LayerDef[] = [];
  const final = walkEnv(catalog, flavorId, args, ({ flavor, layer: l, declared, env }) => {
    if (l.copyFrom) {
      throw new InputError(
        `layer ${l.name} copies files from an image (copyFrom), which a VM disk cannot do`,
        l.yaml.locate(['copyFrom']),
        `build ${flavorId} as a container image only, or install those files with the layer's script`,
      );
    }
    if (ownOnly && flavor.id !== flavorId) return;
    if (!LAYER_NAME.test(l.name)) throw new InputError(`layer name ${JSON.stringify(l.name)} is not a plain name`, { file: l.file });
    if (l.run) checkRelative(l.run, 'run:', { file: l.file });
    for (const c of l.copy) checkRelative(c.src, 'copy src', { file: l.file });
    steps.push({
      index: steps.length + 1,
      layer: l.name,
      ...(l.run ? { run: l.run } : {}),
      // as in a Docker RUN: the declared build args, overridden by ENV of the same name
      env: { ...declared, ...env },
      copy: l.copy.map((c) => ({ src: c.src.replace(/^\.?\//, ''), dest: c.dest, chown: c.chown ?? '' })),
    });
    layers.push(l);
  });
  const services = servicesOf(catalog, flavorId);
  const { units, systemUnits } = vmServices(flavorId, services);
  const health = healthConfig(flavorId, services);
  const flavorDef = catalog.flavors.get(flavorId)!;
  const files: GeneratedFile[] = [
    { path: 'etc/nginx/conf.d/idekube.conf', text: nginxConfig(flavorId, services), mode: 0o644 },
    // the VM serves as the container does with no token set (IPv4, every route open); /health and / the same
    ...nginxRuntimeDefaults().map((f) => ({ path: `${NGINX_RUNTIME_DIR.slice(1)}/${f.name}`, text: f.text, mode: 0o644 })),
    {
      path: `${WWW_DIR.slice(1)}/index.html`,
      text: landingPage({
        flavorId,
        ...(flavorDef.description ? { description: flavorDef.description } : {}),
        services,
        main: health.main,
      }),
      mode: 0o644,
    },
    { path: `${WWW_DIR.slice(1)}/401.html`, text: tokenPage(), mode: 0o644 },
    { path: 'etc/idekube/health.json', text: health.text, mode: 0o644 },
    {
      path: 'usr/local/lib/idekube/health-server.py',
      text: readFileSync(join(artifactsFolder(project, 'runtime'), 'lib/health-server.py'), 'utf8'),
      mode: 0o755,
    },
    ...units.map((u) => ({ path: `etc/systemd/system/${u.name}`, text: u.text, mode: 0o644 })),
    { path: 'etc/profile.d/idekube-env.sh', text: profileScript(flavorId, final), mode: 0o644 },
    { path: 'etc/idekube/environment', text: environmentFile(flavorId, final), mode: 0o644 },
    {
      path: 'etc/idekube/flavor.json',
      text: `${JSON.stringify({ flavor: flavorId, lineage: chain.map((f) => f.id), vm: true, ...(health.main ? { main: health.main } : {}), services: services.map((s) => ({ name: s.name, layer: s.layer, check: s.check ?? 'http', ...(s.name === health.main ? { main: true } : {}), routes: s.routes, programs: Object.keys(s.programs) })) }, null, 2)}\n`,
      mode: 0o644,
    },
  ];
  const flavor = catalog.flavors.get(flavorId)!;
  const vmStepDir = join(project.root, flavor.dir, 'qemu');
  const hasStep = existsSync(vmStepDir);
  return {
    flavorId,
    layers,
    steps,
    files,
    units: units.map((u) => u.name),
    systemUnits,
    ...(hasStep
      ? { vmStepDir, vmScript: existsSync(join(vmStepDir, 'provision.sh')), playbook: existsSync(join(vmStepDir, 'playbook.yml')) }
      : {}),
    args,
  };
}

/** Everything hashed into the disk's cache key from this plan. */
export function planInputs(project: Project, plan: ProvisionPlan): Record<string, unknown> {
  const { catalog } = project;
  const lib = artifactsFolder(project, 'lib');
  return {
    flavor: plan.flavorId,
    manifests: lineage(catalog, plan.flavorId).map((f) => readFileSync(join(project.root, f.file), 'utf8')),
    layerManifests: plan.layers.map((l) => readFileSync(join(project.root, l.file), 'utf8')),
    layerArtifacts: plan.layers.map((l) => [l.name, hashTree(join(project.root, l.artifactsDir))]),
    lib: hashTree(lib),
    args: plan.args,
    steps: plan.steps,
    files: plan.files,
    units: plan.units,
    systemUnits: plan.systemUnits,
    vmStep: plan.vmStepDir ? hashTree(plan.vmStepDir) : null,
  };
}

/** Writes the payload tree under `staging/idekube/` (see the top of this file). */
export function writePayload(project: Project, plan: ProvisionPlan, staging: string): string {
  const root = join(staging, 'idekube');
  const art = qemuArtifacts(project.root);
  const copyTree = (from: string, to: string) => {
    for (const f of treeFiles(from, to)) {
      const dest = join(root, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f.source!, dest);
      chmodSync(dest, f.mode);
    }
  };
  mkdirSync(root, { recursive: true });
  if (plan.steps.some((s) => s.run)) copyTree(artifactsFolder(project, 'lib'), 'lib');
  for (const l of plan.layers) copyTree(join(project.root, l.artifactsDir), `layers/${l.name}`);
  copyTree(art.guest, 'guest');
  if (plan.vmStepDir) copyTree(plan.vmStepDir, 'vm-step');
  copyFileSync(art.provision, join(root, 'provision.sh'));
  chmodSync(join(root, 'provision.sh'), 0o755);
  for (const f of plan.files) {
    const dest = join(root, 'files', f.path);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, f.text, { mode: f.mode });
  }
  const planDir = join(root, 'plan');
  mkdirSync(planDir, { recursive: true });
  const lines: string[] = [];
  for (const s of plan.steps) {
    const id = String(s.index).padStart(2, '0');
    lines.push(`${id} ${s.layer}`);
    const d = join(planDir, id);
    mkdirSync(d);
    writeFileSync(join(d, 'env'), nulEnv(s.env));
    if (s.run) writeFileSync(join(d, 'run'), s.run);
    writeFileSync(join(d, 'copy'), s.copy.map((c) => `${c.src}\0${c.dest}\0${c.chown}\0`).join(''));
  }
  writeFileSync(join(planDir, 'steps'), lines.length ? `${lines.join('\n')}\n` : '');
  writeFileSync(join(planDir, 'units'), plan.units.map((u) => `${u}\n`).join(''));
  writeFileSync(join(planDir, 'system-units'), plan.systemUnits.map((u) => `${u}\n`).join(''));
  writeFileSync(join(planDir, 'flavor-env'), nulEnv(plan.args));
  return root;
}

/** `KEY=value\0` per variable, sorted by name (NUL-separated: values may hold newlines). */
function nulEnv(vars: Record<string, string>): string {
  return Object.keys(vars)
    .sort()
    .map((k) => `${k}=${vars[k]}\0`)
    .join('');
}
