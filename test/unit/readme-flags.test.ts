/**
 * The README's command reference follows the CLI: every flag a command's `--help` shows is in README.md, and every
 * flag the README's command tables (section "Commands") name is a flag of some command.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { REPO_ROOT } from '../helpers/project.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** Every command below `cmd`, itself first, with its path (`idekube qemu run`). */
function commandsOf(cmd: Command, path = cmd.name()): Array<{ path: string; cmd: Command }> {
  return [{ path, cmd }, ...cmd.commands.flatMap((c) => commandsOf(c, `${path} ${c.name()}`))];
}

/** The long flags `<command> --help` lists (what commander prints, hidden ones excepted). */
function helpFlags(cmd: Command): string[] {
  const help = cmd.createHelp();
  return help.visibleOptions(cmd).flatMap((o) => (o.long && o.long !== '--help' ? [o.long] : []));
}

const commands = commandsOf(buildProgram(async () => {}));
const flagsInReadme = (text: string) => new Set(text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []);

describe('README flags', () => {
  it('every command has a help text that lists its flags', () => {
    assert.ok(commands.length > 15, commands.map((c) => c.path).join(', '));
    for (const { path, cmd } of commands) assert.match(cmd.helpInformation(), /^Usage: /, path);
  });

  it("every flag a command's --help shows is in README.md", () => {
    const named = flagsInReadme(readme);
    const missing = commands.flatMap(({ path, cmd }) =>
      helpFlags(cmd)
        .filter((f) => !named.has(f))
        .map((f) => `${path} ${f}`),
    );
    assert.deepEqual(missing, [], 'flags of --help that README.md never names');
  });

  it("every flag the README's command tables name exists in some command's --help", () => {
    const start = readme.indexOf('\n## Commands');
    const end = readme.indexOf('\n### Exit codes', start);
    assert.ok(start >= 0 && end > start, 'README.md has a "## Commands" section followed by "### Exit codes"');
    const known = new Set(commands.flatMap(({ cmd }) => [...helpFlags(cmd), '--help']));
    const unknown = [...flagsInReadme(readme.slice(start, end))].filter((f) => !known.has(f));
    assert.deepEqual(unknown, [], 'flags README.md lists that no command has');
  });

  it("each command row of the table names the flags of that command's --help", () => {
    const rows = readme.split('\n').filter((l) => /^\| `idekube [a-z]/.test(l));
    const usage = (row: string) => flagsInReadme(row.split('` |')[0]!);
    // rows may point at flags named once for several commands: publish at build's row, qemu at "VM flags"
    const vmFlags = flagsInReadme(readme.slice(readme.indexOf('\nVM flags ('), readme.indexOf('\nGlobal options (')));
    const buildRow = rows.find((r) => r.startsWith('| `idekube build '));
    assert.ok(buildRow, 'README.md has a row for idekube build');
    for (const { path, cmd } of commands.filter((c) => c.path.includes(' ') && !c.cmd.commands.length)) {
      const row = rows.find((r) => r.startsWith(`| \`${path} `) || r.startsWith(`| \`${path}\``));
      assert.ok(row, `README.md's command table has a row for ${path}`);
      const shared: Set<string> = row.includes('[VM flags]') ? vmFlags : path === 'idekube publish' ? usage(buildRow) : new Set<string>();
      const missing: string[] = helpFlags(cmd).filter((f) => !usage(row).has(f) && !shared.has(f));
      assert.deepEqual(missing, [], `${path}: flags missing from its row`);
    }
  });
});
