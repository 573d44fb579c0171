/**
 * Structured logs (pino) on stderr, so stdout stays free for the stdout output. JSON by default,
 * pretty on a terminal. Secrets (write keys, salts, Authorization headers) are scrubbed from
 * every log line, whatever field or message they hide in.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { makeScrubber, scrubValue } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level: string;
  secrets: readonly string[];
  pretty?: boolean;
  /**
   * Write each line here instead of to stderr, formatted on this thread and at once (the
   * `run --once` status line puts each log line above itself).
   */
  write?: (line: string) => void;
}

/** Lets a config reload add its secrets to a logger's scrubber. */
const secretSetters = new WeakMap<Logger, (secrets: readonly string[]) => void>();

export function createLogger(opts: LoggerOptions): Logger {
  let known = [...opts.secrets];
  let scrubber = makeScrubber(known);
  const scrub = (s: string): string => scrubber(s);
  const pretty = opts.pretty ?? process.stderr.isTTY;
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      formatters: { log: (obj) => scrubValue(obj, scrub) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    opts.write
      ? destinationOn(opts.write, pretty)
      : pretty
      ? pino.transport({
          target: 'pino-pretty',
          options: { destination: 2, colorize: true },
          // Its thread formats a few lines a second: a small young generation. Without a limit it
          // would get V8's default, since process tuning clears the deployment's semi-space flag
          // (src/tuning/worker-semi-space.ts).
          worker: { resourceLimits: { maxYoungGenerationSizeMb: 6 } },
        })
      : pino.destination({ fd: 2, sync: true }),
  );
  secretSetters.set(logger, (secrets) => {
    // Old secrets stay: lines about the previous config may still be written.
    known = [...new Set([...known, ...secrets])];
    scrubber = makeScrubber(known);
  });
  return logger;
}

function destinationOn(write: (line: string) => void, pretty: boolean): DestinationStream {
  if (!pretty) return { write };
  const prettify = prettyFactory({ colorize: true });
  return { write: (json: string) => write(prettify(json)) };
}

/** Adds secrets to what a logger made by createLogger (and its children) scrubs. */
export function addLogSecrets(logger: Logger, secrets: readonly string[]): void {
  secretSetters.get(logger)?.(secrets);
}
