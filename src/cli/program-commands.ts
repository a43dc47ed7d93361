/**
 * The commands of the command line, one function per group, registered in the order `--help` lists them. Each
 * command's implementation is imported only when it runs.
 */
import { type Command, Option } from 'commander';
import { ALIAS_KINDS, CACHE_MODES, DRIVER_CHOICES, GPU_MODES, NETWORK_MODES, PROGRESS_MODES, choiceText } from './choices.js';
import type { Runner } from './commands/qemu-cli.js';
import type { Context } from './context.js';

export type CtxOf = (cmd: Command) => () => Context;

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--no-cache` as a flag of its own (`noCache: true`). Commander would read it as the negation of `--cache <mode>`,
 * sharing one `cache` attribute, so that the later of `--cache registry --no-cache` silently dropped the other.
 */
function noCacheOption(): Option {
  const option = new Option('--no-cache', 'build every step again');
  option.negate = false;
  return option;
}

/** Reading the project: list, tags, config, generate (no engine). */
export function registerProjectCommands(program: Command, run: Runner, ctxOf: CtxOf): void {
  program
    .command('list')
    .description(
      "list flavors with their parent, platforms and layers (a tree on a terminal; with --lineup: each lineup's flavors and platforms)",
    )
    .action(async (_opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/list.js')).list(ctx)));

  program
    .command('tags')
    .description('print the image tags of flavors (per-arch tags, the multi-arch tag, aliases)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', "every flavor (with --lineup: the lineups' flavors)")
    .option('--alias <kind>', `also print alias tags: ${choiceText(ALIAS_KINDS)} (repeatable)`, collect, [])
    .option('--qemu', 'tags of the QEMU VM-in-container images (<NAME>-qemu)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/tags.js')).tags(ctx, flavors, opts)),
    );

  program
    .command('config')
    .description(
      "print every resolved build arg and setting of a flavor, with where it came from (with --lineup: with the lineup's profile)",
    )
    .argument('[flavor]', 'e.g. featured/base (default: env BRANCH)')
    .action(async (flavor: string | undefined, _opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/config.js')).config(ctx, flavor)),
    );

  program
    .command('generate')
    .description("write each flavor's Dockerfile and exact build context (no engine needed)")
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', "every flavor (with --lineup: the lineups' flavors, each with its lineup's profile)")
    .option('-o, --output <dir>', 'output folder (default: .idekube/build/<profile>; with several lineups, a folder per profile under it)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/generate.js')).generate(ctx, flavors, opts)),
    );
}

// Each command declares the flags it reads, no more: a flag a command would ignore is an unknown option there.
function flavorArgs(cmd: Command): Command {
  return cmd
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH); their parents are included')
    .option('--all', "every flavor (with --lineup: the lineups' flavors)")
    .option('--platform <list>', 'comma-separated platforms (default: linux/amd64,linux/arm64; env IDEKUBE_PLATFORMS)');
}
function aliasFlag(cmd: Command): Command {
  return cmd.option('--alias <kind>', `also tag ${choiceText(ALIAS_KINDS)} (releases only; repeatable)`, collect, []);
}
const extraCaHelp =
  "PEM file of CA certificates RUN steps trust besides the image's own (a TLS-intercepting proxy): a build secret, never in the image or its cache keys (env IDEKUBE_EXTRA_CA_CERTS)";
// what plan shows and build carries out
function planFlags(cmd: Command): Command {
  return aliasFlag(
    flavorArgs(cmd)
      .option('--driver <name>', `${choiceText(DRIVER_CHOICES)} (auto: buildx when installed)`)
      .option('--builder <name>', 'buildx builder (remote BuildKit, kubernetes driver…)')
      .option('--cache <mode>', `${choiceText(CACHE_MODES)} (default none)`),
  ).option('--extra-ca-certs <file>', extraCaHelp);
}

/** What build and publish carry out on top of the plan. */
function runFlags(cmd: Command): Command {
  return planFlags(cmd)
    .option('--jobs <n>', 'independent targets built at once (default 2)')
    .option(
      '--engine <platform=address>',
      'an engine per platform for native builds, e.g. linux/arm64=ssh://arm-host (repeatable)',
      collect,
      [],
    )
    .option('--progress <mode>', choiceText(PROGRESS_MODES))
    .option('--fail-fast', 'stop everything at the first failure')
    .addOption(noCacheOption())
    .option(
      '--network <mode>',
      `network of RUN steps: ${choiceText(NETWORK_MODES)} (host: reach a proxy or package cache on the build host's loopback)`,
    )
    .option('--attest', 'buildx: add SBOM and provenance attestations')
    .option(
      '--sbom-generator <image>',
      'with --attest: the SBOM scanner image (default docker/buildkit-syft-scanner), e.g. a mirror for builders without Docker Hub',
    )
    .option('--dry-run', 'print the plan (buildx: the bake file and argv) and stop')
    .option('--test', 'run idekube test on each built per-arch image before anything of it is pushed');
}

/** Building and publishing: plan, build, publish, manifest, promote. */
export function registerBuildCommands(program: Command, run: Runner, ctxOf: CtxOf): void {
  planFlags(program.command('plan').description('show what a build would do: targets × platforms, tags, args, order (no engine)')).action(
    async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/plan.js')).planCommand(ctx, flavors, opts)),
  );

  runFlags(program.command('build').description('build flavors in dependency order (use --push to publish)'))
    .option('--push', 'push per-arch images, then the manifest lists')
    .option('--arch-only', 'with --push: push per-arch tags only; join them later with idekube manifest (a CI runner per arch)')
    .option('--load', 'buildx: load the result into the local engine')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/build.js')).build(ctx, flavors, opts, 'build')),
    );

  runFlags(program.command('publish').description('build, push per-arch images, then write guarded manifest lists'))
    .option('--arch-only', 'push per-arch tags only; join them later with idekube manifest (a CI runner per arch)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/build.js')).build(ctx, flavors, opts, 'publish')),
    );

  // manifest builds nothing: no driver, builder, cache or build settings (and no suggestion: --driver is not a
  // misspelt --dir)
  aliasFlag(flavorArgs(program.command('manifest').description('join pushed per-arch tags into manifest lists (checked before writing)')))
    .showSuggestionAfterError(false)
    .option('--cleanup', 'then delete the per-arch tags where the registry supports deleting tags')
    .option('--dry-run', 'check everything, write nothing')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/manifest.js')).manifest(ctx, flavors, opts)),
    );

  program
    .command('promote')
    .description('copy published manifest lists to their stable aliases by digest, without rebuilding (v0.8: stable; v0.4: --alias)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', 'every flavor (of the selected lineups)')
    .option('--alias <kind>', `v0.4: the alias to write: ${choiceText(ALIAS_KINDS)} (default ${ALIAS_KINDS[0]}; repeatable)`, collect, [])
    .option('--dry-run', 'check everything, write nothing')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/promote.js')).promote(ctx, flavors, opts)),
    );
}

/** Checking the machine and built images: doctor, test. */
export function registerCheckCommands(program: Command, run: Runner, ctxOf: CtxOf): void {
  program
    .command('doctor')
    .description('check the engine, buildx, emulation, credentials, disk and QEMU, with a fix for each problem')
    .option('--platform <list>', 'platforms to check emulation for')
    .action(async (opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/doctor.js')).doctor(ctx, opts)));

  program
    .command('test')
    .description('start built images and check what their services declare: nginx, routes, SSH over WebSocket, the runtime init')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH); tests their per-arch tags')
    .option('--all', "every flavor (with --lineup: the lineups' flavors, their tags and platforms)")
    .option('--image <ref>', 'test this image (as the one flavor named, or as what its /etc/idekube/flavor.json declares)')
    .option('--platform <list>', "comma-separated platforms to test (default: this machine's; others run emulated)")
    .option('--keep', 'leave the test containers and volumes behind (their names and URLs are printed)')
    .option('--screenshot <file>', 'desktop images: save a PNG of the desktop, taken through noVNC in headless Chromium')
    .option('--timeout <seconds>', 'bound for a container to come up (default 120, env IDEKUBE_TEST_TIMEOUT; emulated platforms ×3)')
    .option('--jobs <n>', 'images tested at once (default 2)')
    .option('--only <checks>', 'comma-separated checks to run, by name or the word before a space (e.g. auth,health,terminal)')
    .option('--chromium <path>', 'Chromium for --screenshot (default: chromium on the usual paths, env IDEKUBE_CHROMIUM)')
    .option('--gpus <mode>', `${choiceText(GPU_MODES)} (auto: when the engine has the nvidia runtime)`)
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/test.js')).test(ctx, flavors, opts)),
    );
}

export function registerSchemaCommand(program: Command, run: Runner, ctxOf: CtxOf): void {
  program
    .command('schema')
    .description('print the JSON Schema of flavor manifests or layers (for editors)')
    .argument('<kind>', 'flavor or layer')
    .action(async (kind: string, _opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/schema.js')).schema(ctx, kind)),
    );
}
