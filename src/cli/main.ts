/**
 * The command line. Each command's implementation is imported only when it runs, so `--help`, `list` and `tags`
 * never load dockerode, listr2 or execa.
 */
import { Command, CommanderError, Option } from 'commander';
import { IdekubeError, InputError, EXIT_FAILURE, EXIT_USAGE } from '../config/errors.js';
import { makeContext, type Context, type GlobalOptions } from './context.js';

const VERSION = '0.1.0';

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
  IDEKUBE_ARG_<KEY>        set build arg KEY (between the flavor's .dockerargs and --set)
  NO_COLOR                 disable colors`;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(run: (ctxFn: () => Context, fn: (ctx: Context) => Promise<void>) => Promise<void>): Command {
  const program = new Command('idekube');
  program
    .description('Build, test and publish browser-IDE container images (coder, jupyter, featured) for amd64 and arm64.')
    .version(VERSION, '-V, --version')
    .option('-C, --dir <path>', 'project root (default: nearest folder above the current one holding flavors/)')
    .option('--profile <name>', 'use .dockerargs.<name> on top of .dockerargs (e.g. ascend)')
    .option('--set <KEY=VALUE>', 'set a build arg or setting (repeatable; highest precedence)', collect, [])
    .option('--registry <host>', 'registry part of image names (env REGISTRY)')
    .option('--author <name>', 'namespace part of image names (env AUTHOR)')
    .option('--name <name>', 'repository name (env NAME)')
    .option('--git-tag <tag>', 'version part of tags (env GIT_TAG)')
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
    .description('list flavors with their parent, platforms and layers (a tree on a terminal)')
    .action(async (_opts, cmd: Command) => run(ctxOf(cmd), async (ctx) => (await import('./commands/list.js')).list(ctx)));

  program
    .command('tags')
    .description('print the image tags of flavors (per-arch tags, the multi-arch tag, aliases)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', 'every flavor')
    .option('--alias <kind>', 'also print alias tags: latest, major, minor (repeatable)', collect, [])
    .option('--qemu', 'tags of the QEMU VM-in-container images (<NAME>-qemu)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/tags.js')).tags(ctx, flavors, opts)),
    );

  program
    .command('config')
    .description('print every resolved build arg and setting of a flavor, with where it came from')
    .argument('[flavor]', 'e.g. featured/base (default: env BRANCH)')
    .action(async (flavor: string | undefined, _opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/config.js')).config(ctx, flavor)),
    );

  program
    .command('generate')
    .description('write each flavor\'s Dockerfile and exact build context (no engine needed)')
    .argument('[flavors...]', 'flavors such as featured/base (default: env BRANCH)')
    .option('--all', 'every flavor')
    .option('-o, --output <dir>', 'output folder (default: .idekube/build/<profile>)')
    .action(async (flavors: string[], opts, cmd: Command) =>
      run(ctxOf(cmd), async (ctx) => (await import('./commands/generate.js')).generate(ctx, flavors, opts)),
    );

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
  const run = async (ctxFn: () => Context, fn: (ctx: Context) => Promise<void>) => {
    const ctx = ctxFn();
    json = Boolean(ctx.opts.json);
    await fn(ctx);
  };
  const program = buildProgram(run);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    exitCode = report(e, json);
  }
  return exitCode;
}

function report(e: unknown, json: boolean): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    const msg = e.message.replace(/^error: /, '');
    if (json) process.stderr.write(`${JSON.stringify({ error: { kind: 'UsageError', message: msg, exitCode: EXIT_USAGE } })}\n`);
    else process.stderr.write(`idekube: ${msg}\n  (see idekube --help)\n`);
    return EXIT_USAGE;
  }
  if (e instanceof IdekubeError) {
    if (json) process.stderr.write(`${JSON.stringify({ error: e.toJSON() })}\n`);
    else process.stderr.write(`idekube: ${e instanceof InputError ? 'error' : 'failed'}: ${e.format().replace(/\n(?!  fix:)/g, '\nidekube: error: ')}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`idekube: internal error: ${err?.stack ?? String(e)}\n`);
  return EXIT_FAILURE;
}
