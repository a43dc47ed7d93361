/**
 * The command line. Each command's implementation is imported only when it runs, so `--help`, `list` and `tags`
 * never load dockerode, listr2 or execa.
 */
import { Command, CommanderError, Option } from 'commander';
import { IdekubeError, InputError, InputErrors, EXIT_FAILURE, EXIT_USAGE } from '../config/errors.js';
import { formatWarning, takeWarnings } from '../config/warnings.js';
import { registerQemu } from './commands/qemu-cli.js';
import { ALIAS_KINDS, CACHE_MODES, DRIVER_CHOICES, GPU_MODES, NETWORK_MODES, PROGRESS_MODES, SCHEMES, choiceText } from './choices.js';
import { makeContext, type Context, type GlobalOptions } from './context.js';
import { packageVersion } from './version.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  a build, push, test or runtime failure (nothing half-published)
  2  bad input: a manifest, .dockerargs line, flag or environment variable (nothing was built or pushed)

Environment:
  REGISTRY, AUTHOR, NAME   image name parts (default docker.io/davidliyutong/idekube-container)
  GIT_TAG                  version part of tags (default: from git tags, see README)
  TAG_POSTFIX              appended after the version, before the arch (e.g. -ascend)
  BRANCH                   default flavor when a command is given none (e.g. featured/base)
  IDEKUBE_PROFILE          same as --profile
  IDEKUBE_SCHEME           same as --scheme (or IDEKUBE_SCHEME= in .dockerargs)
  IDEKUBE_LINEUP           same as --lineup (or IDEKUBE_LINEUP= in a profile)
  IDEKUBE_ARG_<KEY>        set build arg KEY (between the flavor's .dockerargs and --set)
  IDEKUBE_PLATFORMS        same as --platform of plan, build, publish, manifest and test
  NO_COLOR                 disable colors`;

function collect(value: string, previous: string[]): string[] {
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

export function buildProgram(run: (ctxFn: () => Context, fn: (ctx: Context) => Promise<void>) => Promise<void>): Command {
  const program = new Command('idekube');
  program
    .description('Build, test and publish browser-IDE container images (coder, jupyter, featured) for amd64 and arm64.')
    .version(packageVersion(), '-V, --version')
    .option('-C, --dir <path>', 'project root (default: nearest folder above the current one holding flavors/)')
    .option('--profile <name>', 'use .dockerargs.<name> on top of .dockerargs (e.g. ascend)')
    .option('--set <KEY=VALUE>', 'set a build arg or setting (repeatable; highest precedence)', collect, [])
    .option('--registry <host>', 'registry part of image names (env REGISTRY)')
    .option('--author <name>', 'namespace part of image names (env AUTHOR)')
    .option('--name <name>', 'repository name (env NAME)')
    .option('--git-tag <tag>', 'version part of tags (env GIT_TAG)')
    .option('--scheme <scheme>', `tag scheme and built-in lineups: ${choiceText(SCHEMES)} (default ${SCHEMES[0]}; v0.4: one repository, v0.8: a repository per image) (env IDEKUBE_SCHEME)`)
    .option('--lineup <names>', 'build these lineups (comma-separated): v0.4 base, ascend; v0.8 universal, ascend (env IDEKUBE_LINEUP)')
    .option('--staging', 'staging tags: -staging after the version and postfix (also GIT_TAG=edge)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('-q, --quiet', 'print only results and errors').conflicts('verbose'))
    .option('-v, --verbose', 'print more detail')
    .option('--no-color', 'disable colors (also NO_COLOR)')
    .addHelpText('after', EXIT_CODES_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  const ctxOf = (cmd: Command) => () => makeContext(cmd.optsWithGlobals() as GlobalOptions, process.env);

  program
    .command('list')
    .description('list flavors with their parent, platforms and layers (a tree on a terminal; with --lineup: each lineup\'s flavors and platforms)')
    .action(async (_opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/list.js')).list(ctx)));

  program
    .command('tags')
    .description('print the image tags of flavors (per-arch tags, the multi-arch tag, aliases)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', 'every flavor (with --lineup: the lineups\' flavors)')
    .option('--alias <kind>', `also print alias tags: ${choiceText(ALIAS_KINDS)} (repeatable)`, collect, [])
    .option('--qemu', 'tags of the QEMU VM-in-container images (<NAME>-qemu)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/tags.js')).tags(ctx, flavors, opts)),
    );

  program
    .command('config')
    .description('print every resolved build arg and setting of a flavor, with where it came from (with --lineup: with the lineup\'s profile)')
    .argument('[flavor]', 'e.g. featured/base (default: env BRANCH)')
    .action(async (flavor: string | undefined, _opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/config.js')).config(ctx, flavor)),
    );

  program
    .command('generate')
    .description('write each flavor\'s Dockerfile and exact build context (no engine needed)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', 'every flavor (with --lineup: the lineups\' flavors, each with its lineup\'s profile)')
    .option('-o, --output <dir>', 'output folder (default: .idekube/build/<profile>; with several lineups, a folder per profile under it)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/generate.js')).generate(ctx, flavors, opts)),
    );

  // Each command declares the flags it reads, no more: a flag a command would ignore is an unknown option there.
  const flavorArgs = (cmd: Command) =>
    cmd
      .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH); their parents are included')
      .option('--all', 'every flavor (with --lineup: the lineups\' flavors)')
      .option('--platform <list>', 'comma-separated platforms (default: linux/amd64,linux/arm64; env IDEKUBE_PLATFORMS)');
  const aliasFlag = (cmd: Command) => cmd.option('--alias <kind>', `also tag ${choiceText(ALIAS_KINDS)} (releases only; repeatable)`, collect, []);
  const extraCaHelp = 'PEM file of CA certificates RUN steps trust besides the image\'s own (a TLS-intercepting proxy): a build secret, never in the image or its cache keys (env IDEKUBE_EXTRA_CA_CERTS)';
  // what plan shows and build carries out
  const planFlags = (cmd: Command) =>
    aliasFlag(
      flavorArgs(cmd)
        .option('--driver <name>', `${choiceText(DRIVER_CHOICES)} (auto: buildx when installed)`)
        .option('--builder <name>', 'buildx builder (remote BuildKit, kubernetes driver…)')
        .option('--cache <mode>', `${choiceText(CACHE_MODES)} (default none)`),
    ).option('--extra-ca-certs <file>', extraCaHelp);

  planFlags(program.command('plan').description('show what a build would do: targets × platforms, tags, args, order (no engine)')).action(
    async (flavors: string[], opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/plan.js')).planCommand(ctx, flavors, opts)),
  );

  const runFlags = (cmd: Command) =>
    planFlags(cmd)
      .option('--jobs <n>', 'independent targets built at once (default 2)')
      .option('--engine <platform=address>', 'an engine per platform for native builds, e.g. linux/arm64=ssh://arm-host (repeatable)', collect, [])
      .option('--progress <mode>', choiceText(PROGRESS_MODES))
      .option('--fail-fast', 'stop everything at the first failure')
      .addOption(noCacheOption())
      .option('--network <mode>', `network of RUN steps: ${choiceText(NETWORK_MODES)} (host: reach a proxy or package cache on the build host's loopback)`)
      .option('--attest', 'buildx: add SBOM and provenance attestations')
      .option('--sbom-generator <image>', 'with --attest: the SBOM scanner image (default docker/buildkit-syft-scanner), e.g. a mirror for builders without Docker Hub')
      .option('--dry-run', 'print the plan (buildx: the bake file and argv) and stop')
      .option('--test', 'run idekube test on each built per-arch image before anything of it is pushed');

  runFlags(program.command('build').description('build flavors in dependency order (use --push to publish)'))
    .option('--push', 'push per-arch images, then the manifest lists')
    .option('--arch-only', 'with --push: push per-arch tags only; join them later with idekube manifest (a CI runner per arch)')
    .option('--load', 'buildx: load the result into the local engine')
    .action(async (flavors: string[], opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/build.js')).build(ctx, flavors, opts, 'build')));

  runFlags(program.command('publish').description('build, push per-arch images, then write guarded manifest lists'))
    .option('--arch-only', 'push per-arch tags only; join them later with idekube manifest (a CI runner per arch)')
    .action(
    async (flavors: string[], opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/build.js')).build(ctx, flavors, opts, 'publish')),
  );

  // manifest builds nothing: no driver, builder, cache or build settings
  aliasFlag(flavorArgs(program.command('manifest').description('join pushed per-arch tags into manifest lists (checked before writing)')))
    .option('--cleanup', 'then delete the per-arch tags where the registry supports deleting tags')
    .option('--dry-run', 'check everything, write nothing')
    .action(async (flavors: string[], opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/manifest.js')).manifest(ctx, flavors, opts)));

  program
    .command('promote')
    .description('copy published manifest lists to their stable aliases by digest, without rebuilding (v0.8: stable; v0.4: --alias)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', 'every flavor (of the selected lineups)')
    .option('--alias <kind>', `v0.4: the alias to write: ${choiceText(ALIAS_KINDS)} (default ${ALIAS_KINDS[0]}; repeatable)`, collect, [])
    .option('--dry-run', 'check everything, write nothing')
    .action(async (flavors: string[], opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/promote.js')).promote(ctx, flavors, opts)));

  program
    .command('doctor')
    .description('check the engine, buildx, emulation, credentials, disk and QEMU, with a fix for each problem')
    .option('--platform <list>', 'platforms to check emulation for')
    .action(async (opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/doctor.js')).doctor(ctx, opts)));

  program
    .command('test')
    .description('start built images and check what their services declare: nginx, routes, SSH over WebSocket, the runtime init')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH); tests their per-arch tags')
    .option('--all', 'every flavor (with --lineup: the lineups\' flavors, their tags and platforms)')
    .option('--image <ref>', 'test this image (as the one flavor named, or as what its /etc/idekube/flavor.json declares)')
    .option('--platform <list>', 'comma-separated platforms to test (default: this machine\'s; others run emulated)')
    .option('--keep', 'leave the test containers and volumes behind (their names and URLs are printed)')
    .option('--screenshot <file>', 'desktop images: save a PNG of the desktop, taken through noVNC in headless Chromium')
    .option('--timeout <seconds>', 'bound for a container to come up (default 120, env IDEKUBE_TEST_TIMEOUT; emulated platforms ×3)')
    .option('--jobs <n>', 'images tested at once (default 2)')
    .option('--only <checks>', 'comma-separated checks to run, by name or the word before a space (e.g. auth,health,terminal)')
    .option('--chromium <path>', 'Chromium for --screenshot (default: chromium on the usual paths, env IDEKUBE_CHROMIUM)')
    .option('--gpus <mode>', `${choiceText(GPU_MODES)} (auto: when the engine has the nvidia runtime)`)
    .action(async (flavors: string[], opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/test.js')).test(ctx, flavors, opts)));

  registerQemu(program.command('qemu').description('QEMU VM images: root disks, the VM-in-container image, local runs'), run, ctxOf);

  program
    .command('schema')
    .description('print the JSON Schema of flavor manifests or layers (for editors)')
    .argument('<kind>', 'flavor or layer')
    .action(async (kind: string, _opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/schema.js')).schema(ctx, kind)),
    );

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  let json = argv.includes('--json');
  let quiet = false;
  const flush = () => printWarnings(json, quiet);
  const run = async (ctxFn: () => Context, fn: (ctx: Context) => Promise<void>) => {
    const ctx = ctxFn();
    json = Boolean(ctx.opts.json);
    quiet = Boolean(ctx.opts.quiet);
    // warnings found while loading the project are printed as soon as it is loaded (before a long build)
    const load = ctx.project.bind(ctx);
    ctx.project = async () => {
      try {
        return await load();
      } finally {
        flush();
      }
    };
    try {
      await fn(ctx);
    } finally {
      flush();
    }
  };
  const program = buildProgram(run);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    flush();
    exitCode = report(e, json, argv.includes('-v') || argv.includes('--verbose') || Boolean(process.env.IDEKUBE_DEBUG));
  }
  return exitCode;
}

/** Warnings and notes of config/warnings.ts: `warning: file:line: …` on stderr (JSON lines with --json; none with -q). */
function printWarnings(json: boolean, quiet: boolean): void {
  for (const w of takeWarnings()) {
    if (quiet) continue;
    if (json) process.stderr.write(`${JSON.stringify({ [w.kind]: { message: w.message, ...w.location, ...(w.fix ? { fix: w.fix } : {}) } })}\n`);
    else process.stderr.write(`${formatWarning(w)}\n`);
  }
}

function report(e: unknown, json: boolean, debug = false): number {
  if (e instanceof CommanderError) {
    // `idekube` (or `idekube qemu`) without a command: usage on stderr, exit 2; `--help` and `help` stay 0
    if (e.code === 'commander.help' && e.exitCode !== 0) return EXIT_USAGE;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    const msg = e.message.replace(/^error: /, '');
    if (json) process.stderr.write(`${JSON.stringify({ error: { kind: 'UsageError', message: msg, exitCode: EXIT_USAGE } })}\n`);
    else process.stderr.write(`idekube: ${msg}\n  (see idekube --help)\n`);
    return EXIT_USAGE;
  }
  if (e instanceof IdekubeError) {
    if (json) process.stderr.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
    // several input errors: one prefixed line each; any other multi-line message (a console tail): indented
    else if (e instanceof InputErrors) process.stderr.write(`idekube: error: ${e.format().replace(/\n(?!  fix:)/g, '\nidekube: error: ')}\n`);
    else process.stderr.write(`idekube: ${e instanceof InputError ? 'error' : 'failed'}: ${e.format().replace(/\n(?!  fix:)/g, '\n  ')}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  // a bug: one bounded line unless asked for the stack (a stack trace is no message for a user)
  const message = String(err?.message ?? e).split('\n')[0]!.slice(0, 500);
  if (json) process.stderr.write(`${JSON.stringify({ error: { kind: 'InternalError', message, exitCode: EXIT_FAILURE } })}\n`);
  else if (debug) process.stderr.write(`idekube: internal error: ${err?.stack ?? String(e)}\n`);
  else process.stderr.write(`idekube: internal error: ${message}\n  (a bug in idekube: IDEKUBE_DEBUG=1 shows where; please report it)\n`);
  return EXIT_FAILURE;
}
