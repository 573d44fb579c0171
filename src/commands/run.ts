/** `tailship run`: the daemon, until SIGTERM/SIGINT (or, with --once, until caught up). */
import type { Command } from 'commander';
import { Daemon } from '../daemon.js';
import { installLastResort } from '../ops/last-resort.js';
import { createLogger } from '../ops/logger.js';
import { prepareProgress } from './progress.js';
import { configOption, fail, loadConfig } from './shared.js';

interface RunOptions {
  config?: string;
  once?: boolean;
  logLevel?: string;
}

async function run(opts: RunOptions): Promise<void> {
  // stdout may carry the stdout output's events (data, passed as they are); the logs are scrubbed by the logger.
  const loaded = loadConfig(opts.config, { scrubOutput: false });
  const log = createLogger({ level: opts.logLevel ?? loaded.config.log_level, secrets: loaded.secrets });
  installLastResort(log);
  let daemon: Daemon | undefined;
  let signals = 0;
  let stopping: Promise<void> | undefined;
  // Exits 0, or 1 after a pipeline failed (process.exitCode).
  const stop = (): Promise<void> => (stopping ??= (daemon ? daemon.stop() : Promise.resolve()).then(() => process.exit()));
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      // Nothing is lost by leaving now: queued events and offsets are already in the store.
      log.warn({ signal: sig }, 'second signal: exiting at once');
      process.exit(130);
    }
    log.info({ signal: sig }, 'signal received');
    if (daemon) void stop();
  };
  // Handlers before anything starts: a signal during start-up stops cleanly rather than killing
  // the process half-started (SIGHUP's default action would terminate it too).
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP: apply the config again; a refused one is logged by the daemon and the running one stays.
  process.on('SIGHUP', () => void daemon?.reloadFromSource().catch(() => undefined));
  daemon = await Daemon.create(loaded, log, {
    once: opts.once ?? false,
    logLevelFixed: opts.logLevel !== undefined,
    reloadSource: () => loadConfig(opts.config, { scrubOutput: false }),
    onFatal: () => {
      process.exitCode = 1;
      void stop();
    },
  });
  if (signals > 0) return stop();
  const progress = opts.once ? prepareProgress(daemon) : undefined;
  await daemon.start();
  if (opts.once && !stopping) {
    const bar = progress!.start();
    try {
      await daemon.finished();
    } catch {
      // A pipeline failed: onFatal logged it and is stopping the daemon (exit 1).
      bar.stop();
      return stop();
    }
    bar.stop();
    await daemon.stop();
    process.exit(0);
  }
}

export function register(program: Command): void {
  program
    .command('run')
    .description('tail, map and ship, until SIGTERM/SIGINT')
    .addOption(configOption())
    .option('--once', 'read every file to its current end, deliver everything, then exit')
    .option('--log-level <level>', 'override log_level')
    .action((o: RunOptions) => run(o).catch(fail));
}
