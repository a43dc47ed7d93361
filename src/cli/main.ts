/**
 * The command line. Each command's implementation is imported only when it runs, so `--help`, `list` and `tags`
 * never load dockerode, listr2 or execa.
 */
import { Command, CommanderError, Option } from 'commander';
import { IdekubeError, InputError, InputErrors, EXIT_FAILURE, EXIT_USAGE } from '../config/errors.js';
import { formatWarning, takeWarnings } from '../config/warnings.js';
import { registerQemu } from './commands/qemu-cli.js';
import { SCHEMES, choiceText } from './choices.js';
import { makeContext, type Context, type GlobalOptions } from './context.js';
import {
  collect,
  registerBuildCommands,
  registerCheckCommands,
  registerProjectCommands,
  registerSchemaCommand,
  type CtxOf,
} from './program-commands.js';
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
    .option(
      '--scheme <scheme>',
      `tag scheme and built-in lineups: ${choiceText(SCHEMES)} (default ${SCHEMES[0]}; v0.4: one repository, v0.8: a repository per image) (env IDEKUBE_SCHEME)`,
    )
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

  const ctxOf: CtxOf = (cmd) => () => makeContext(cmd.optsWithGlobals() as GlobalOptions, process.env);
  registerProjectCommands(program, run, ctxOf);
  registerBuildCommands(program, run, ctxOf);
  registerCheckCommands(program, run, ctxOf);
  registerQemu(program.command('qemu').description('QEMU VM images: root disks, the VM-in-container image, local runs'), run, ctxOf);
  registerSchemaCommand(program, run, ctxOf);
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
    if (json)
      process.stderr.write(`${JSON.stringify({ [w.kind]: { message: w.message, ...w.location, ...(w.fix ? { fix: w.fix } : {}) } })}\n`);
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
    else if (e instanceof InputErrors)
      process.stderr.write(`idekube: error: ${e.format().replace(/\n(?! {2}fix:)/g, '\nidekube: error: ')}\n`);
    else
      process.stderr.write(`idekube: ${e instanceof InputError ? 'error' : 'failed'}: ${e.format().replace(/\n(?! {2}fix:)/g, '\n  ')}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  // a bug: one bounded line unless asked for the stack (a stack trace is no message for a user)
  const message = String(err?.message ?? e)
    .split('\n')[0]!
    .slice(0, 500);
  if (json) process.stderr.write(`${JSON.stringify({ error: { kind: 'InternalError', message, exitCode: EXIT_FAILURE } })}\n`);
  else if (debug) process.stderr.write(`idekube: internal error: ${err?.stack ?? String(e)}\n`);
  else process.stderr.write(`idekube: internal error: ${message}\n  (a bug in idekube: IDEKUBE_DEBUG=1 shows where; please report it)\n`);
  return EXIT_FAILURE;
}
