/**
 * Command line. Each command is one file under src/commands/ exporting `register(program)`;
 * adding a command is a file and a line here. Exit codes: 0 ok, 1 a problem the message
 * explains (bad config, store in use), 2 wrong usage.
 */
import { Command } from 'commander';
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
    .version(VERSION)
    .showHelpAfterError();
  for (const register of [registerRun, registerValidate, registerStatus, registerTop, registerTap, registerParse, registerDeadLetter]) register(program);
  return program;
}

export function main(argv: string[] = process.argv): void {
  buildCli().parseAsync(argv).catch(fail);
}
