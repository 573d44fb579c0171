/**
 * Command line: run, validate, status (and the tools later issues add). Exit codes: 0 ok,
 * 1 a problem the message explains (bad config, store in use), 2 wrong usage.
 */
import { Command, Option } from 'commander';
import { loadConfigFile, loadConfigText, type LoadedConfig } from './config/load.js';
import { compilePipeline, Daemon } from './daemon.js';
import { TailshipError } from './errors.js';
import { createLogger } from './ops/logger.js';
import { printStatus } from './ops/status.js';
import { VERSION } from './version.js';

/** The config from --config, else from the TAILSHIP_CONFIG variable (YAML text, for containers). */
function loadConfig(file: string | undefined): LoadedConfig {
  if (file) return loadConfigFile(file);
  const text = process.env.TAILSHIP_CONFIG;
  if (text) return loadConfigText(text, '<TAILSHIP_CONFIG>', process.cwd());
  throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', 'no config: pass --config FILE or set TAILSHIP_CONFIG to the YAML text');
}

function fail(err: unknown): never {
  if (err instanceof TailshipError) {
    process.stderr.write(`tailship: ${err.describe()} [${err.code}]\n`);
    process.exit(1);
  }
  throw err;
}

async function run(opts: { config?: string; once?: boolean; logLevel?: string }): Promise<void> {
  const loaded = loadConfig(opts.config);
  const log = createLogger({ level: opts.logLevel ?? loaded.config.log_level, secrets: loaded.secrets });
  const daemon = await Daemon.create(loaded, log, { once: opts.once ?? false });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // Nothing is lost by leaving now: queued events and offsets are already in the store.
      log.warn({ signal: sig }, 'second signal: exiting at once');
      process.exit(130);
    }
    log.info({ signal: sig }, 'signal received');
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await daemon.start();
  if (opts.once) {
    await daemon.finished();
    await daemon.stop();
    process.exit(0);
  }
}

async function validate(opts: { config?: string }): Promise<void> {
  const loaded = loadConfig(opts.config);
  for (const [i, p] of loaded.config.pipelines.entries()) await compilePipeline(loaded, p, i);
  const n = loaded.config.pipelines.length;
  process.stdout.write(`${loaded.source}: OK (${n} pipeline${n === 1 ? '' : 's'}: ${loaded.config.pipelines.map((p) => p.name).join(', ')})\n`);
}

export function buildCli(): Command {
  const program = new Command('tailship')
    .description('Tail log files and ship them as analytics events, at least once.')
    .version(VERSION)
    .showHelpAfterError();
  const configOption = () => new Option('-c, --config <file>', 'config file (default: the TAILSHIP_CONFIG variable)');

  program
    .command('run')
    .description('tail, map and ship, until SIGTERM/SIGINT')
    .addOption(configOption())
    .option('--once', 'read every file to its current end, deliver everything, then exit')
    .option('--log-level <level>', 'override log_level')
    .action((o) => run(o).catch(fail));

  program
    .command('validate')
    .description('check the config: schema, parsers, templates and expressions')
    .addOption(configOption())
    .action((o) => validate(o).catch(fail));

  program
    .command('status')
    .description('files with lag, queue depth per output, dead letters (safe beside a running daemon)')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action((o: { config?: string; json?: boolean }) => {
      try {
        printStatus(loadConfig(o.config), o.json ?? false, process.stdout);
      } catch (err) {
        fail(err);
      }
    });

  return program;
}

export function main(argv: string[] = process.argv): void {
  buildCli().parseAsync(argv).catch(fail);
}


