/** Stdout: events as NDJSON, for dry runs, demos and piping into other tools. */
import type { Writable } from 'node:stream';
import type { StdoutOptions } from './options.js';
import type { BatchLimits, DeliveryResult, Destination, RetryPolicy } from '../destination.js';

type Config = StdoutOptions & { name: string };

export class StdoutDestination implements Destination {
  readonly type = 'stdout';
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy = { baseMs: 100, capMs: 5_000, maxRetryAgeMs: 0 };
  readonly perEventOverhead = 1;

  constructor(cfg: Config, private readonly out: Writable = process.stdout) {
    this.name = cfg.name;
    this.limits = { maxEvents: cfg.batch_size, maxBytes: 64 * 1024 * 1024, maxMessageBytes: 64 * 1024 * 1024, flushIntervalMs: cfg.flush_interval, concurrency: 1 };
  }

  deliver(events: readonly string[]): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      this.out.write(events.join('\n') + '\n', (err) => resolve(err ? { kind: 'retry', reason: `stdout: ${err.message}` } : { kind: 'ok' }));
    });
  }

  async close(): Promise<void> {}
}
