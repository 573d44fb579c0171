/**
 * Command line. Each command is one file under src/commands/ exporting `register(program)`;
 * adding a command is a file and a line here. Exit codes: src/commands/exit-codes.ts.
 */
import { Command } from 'commander';
import { EXIT } from './commands/exit-codes.js';
import { register as registerDeadLetter } from './commands/dead-letter.js';
import { register as registerParse } from './commands/parse.js';
import { register as registerRun } from './commands/run.js';
import { fail } from './commands/shared.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerTap } from './commands/tap.js';
import { register as registerTop } from './commands/top.js';
import { register as registerValidate } from './commands/validate.js';
import { VERSION } from './version.js';

export function buildCli(): Command {
  const program = new Command('tailship')
    .description('Tail log files and ship them as analytics events, at least once.')
    .version(VERSION, '-v, --version', 'print the version')
    .showHelpAfterError()
    // Before the commands are added, so that they inherit it: a usage mistake exits 2.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE));
  for (const register of [registerRun, registerValidate, registerStatus, registerTop, registerTap, registerParse, registerDeadLetter]) register(program);
  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`${VERSION}\n`);
    });
  return program;
}

export function main(argv: string[] = process.argv): void {
  buildCli().parseAsync(argv).catch(fail);
}
