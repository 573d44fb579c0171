/** `tailship run`: the daemon, until SIGTERM/SIGINT (or, with --once, until caught up). */
import type { Command } from 'commander';
import { Daemon } from '../daemon.js';
import { installLastResort } from '../ops/last-resort.js';
import { createLogger } from '../ops/logger.js';
import { StatusLine } from '../ops/status-line.js';
import { EXIT } from './exit-codes.js';
import { prepareProgress, type Progress } from './progress.js';
import { configOption, fail, loadConfig } from './shared.js';

interface RunOptions {
  config?: string;
  once?: boolean;
  logLevel?: string;
}

async function run(opts: RunOptions): Promise<void> {
  // stdout may carry the stdout output's events (data, passed as they are); the logs are scrubbed by the logger.
  const loaded = loadConfig(opts.config, { scrubOutput: false });
  // run --once on a terminal: a status line at the bottom, every log line written above it.
  const line = opts.once && process.stderr.isTTY ? new StatusLine(process.stderr) : undefined;
  const log = createLogger({ level: opts.logLevel ?? loaded.config.log_level, secrets: loaded.secrets, ...(line ? { write: line.log } : {}) });
  installLastResort(log);
  let daemon: Daemon | undefined;
  let progress: Progress | undefined;
  let signalled: NodeJS.Signals | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (daemon ? daemon.stop() : Promise.resolve()).then(() => {
      if (progress) progress.finish(progress.stop());
      else line?.end();
      process.exit(code);
    }));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) {
      // A second signal: stop now, as Filebeat and Vector do. Queued events and their offsets
      // are already in the store; requests in flight are sent again at the next start (the
      // collector deduplicates them by messageId). Dying by the signal itself tells the parent
      // (systemd, a shell) what happened, rather than an exit code that looks like a crash.
      log.warn({ signal: sig }, 'second signal: stopping at once; what is queued stays in the store for the next start');
      line?.end();
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.kill(process.pid, sig);
      return;
    }
    signalled = sig;
    log.info({ signal: sig }, 'signal received: stopping (a second signal stops at once)');
    // --once stopped early has not delivered everything: not a success.
    if (daemon) void stop(opts.once ? EXIT.FAILURE : EXIT.OK);
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
    onFatal: () => void stop(EXIT.FAILURE),
  });
  if (signalled) return stop(opts.once ? EXIT.FAILURE : EXIT.OK);
  const prepared = opts.once ? prepareProgress(daemon, line) : undefined;
  await daemon.start();
  if (!opts.once || stopping) return;
  progress = prepared!.start();
  try {
    await daemon.finished();
  } catch {
    // A pipeline failed: onFatal logged it and is stopping the daemon.
    return stop(EXIT.FAILURE);
  }
  if (stopping) return;
  const matched = daemon.pipelines.reduce((n, p) => n + p.filesMatchedAtStart, 0);
  const summary = progress.stop();
  progress.finish(summary);
  progress = undefined;
  await daemon.stop();
  if (matched === 0) {
    process.stderr.write('tailship: no file matches the paths of any input: nothing was read (exit code 4)\n');
    process.exit(EXIT.NO_FILES);
  }
  process.exit(summary.deadLetters > 0 ? EXIT.DEAD_LETTERS : EXIT.OK);
}

export function register(program: Command): void {
  program
    .command('run')
    .description('tail, map and ship, until SIGTERM/SIGINT')
    .addOption(configOption())
    .option('--once', 'read every file to its current end, deliver everything, then exit (0: all delivered, 3: some dead letters, 4: no file matched)')
    .option('--log-level <level>', 'override log_level')
    .action((o: RunOptions) => run(o).catch(fail));
}
