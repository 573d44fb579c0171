/**
 * Emitter: drains one output's queue rows to its destination. Takes rows oldest first, sends a
 * batch when it is full by count or bytes or when its oldest row has waited flush_interval (or at
 * once when reading catches up with a backlog: nothing more is coming to fill it), keeps
 * up to `concurrency` batches in flight, and removes rows only when every event in them has a 2xx
 * or is a dead letter with its reason. Retryable failures back off (Retry-After wins) and keep
 * the rows; a refused request is split in halves to find the events the collector refuses.
 * A store error worth waiting out is retried; any other error stops the emitter through one
 * path (fail → onFailed), as a pipeline's failure stops it.
 */
import { systemClock, type Clock } from '../clock.js';
import { TailshipError } from '../errors.js';
import type { Store, QueueRow, DeadLetterInput } from '../store/store.js';
import { isSendableAsStored } from '../store/payload.js';
import { isTransientStoreError, storeRetryDelayMs } from '../store/transient.js';
import { backoffDelayMs } from './backoff.js';
import type { DeliveryResult, Destination } from './destination.js';

/** Why events of an output became dead letters (the metrics' `reason`; the full text is in the dead letter). */
export const DELIVERY_DEAD_LETTER_CODES = ['rejected', 'too_large', 'max_retry_age'] as const;
export type DeliveryDeadLetterCode = (typeof DELIVERY_DEAD_LETTER_CODES)[number];

export interface EmitterEvents {
  batchSent(output: string, events: number, bytes: number, latencyMs: number): void;
  batchFailed(output: string, result: Exclude<DeliveryResult, { kind: 'ok' }>, attempt: number, delayMs: number): void;
  /** `count` events became dead letters for `code`; `reason` is the first one's. */
  deadLettered(output: string, count: number, code: DeliveryDeadLetterCode, reason: string): void;
  /** A store write or read failed on an error worth waiting out (`code`, e.g. SQLITE_FULL); retried. */
  storeRetry?(output: string, code: string, retryInMs: number, failures: number): void;
}

export interface EmitterOptions {
  /** Time for flush deadlines and retry delays. */
  readonly clock?: Clock;
  /**
   * The emitter stopped on an error it cannot wait out (a corrupt store, a bug): the daemon
   * logs it with its code, counts it and stops cleanly, as for a pipeline's failure. The error
   * has a string `code`: the store's (SQLITE_CORRUPT, ...) or TAILSHIP_OUTPUT_FAILED.
   */
  readonly onFailed: (err: Error & { code: string }) => void;
  /** Removes secrets from what is stored with a dead letter: a collector may echo the write key. */
  readonly scrub?: (s: string) => string;
}

type Letter = DeadLetterInput & { readonly code: DeliveryDeadLetterCode };

const ROWS_PER_READ = 32;

/** One request's worth of events, as stored rows or as decoded events. */
interface Request {
  readonly count: number;
  /** Bytes of the events (for metrics). */
  readonly bytes: number;
  deliver(signal: AbortSignal): Promise<DeliveryResult>;
  /** The events one by one, to bisect a refused request or dead-letter it. */
  events(): string[];
}

export class Emitter {
  /** Id of the last row handed to a batch; rows after it are not in flight. */
  private cursor = 0;
  private inflight = 0;
  private running = false;
  private draining = false;
  /** A full batch left since the last partial one: the pipeline is working through a backlog. */
  private backlog = false;
  /** Reading caught up with that backlog: its last partial batch leaves without waiting. */
  private backlogRead = false;
  private wakeUp: (() => void) | undefined;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  /** Batches being sent; each settles without rejecting. */
  private readonly sending = new Set<Promise<void>>();
  /** Set once the emitter stopped on an error it cannot wait out. */
  private failed = false;
  /** Store reads that failed in a row on an error worth waiting out. */
  private readFailures = 0;
  /** Last delivery error, for status and health; cleared by a success. */
  lastError: string | undefined;
  consecutiveFailures = 0;
  private readonly clock: Clock;
  private readonly onFailed: EmitterOptions['onFailed'];
  private readonly scrub: (s: string) => string;

  constructor(
    private readonly pipeline: string,
    private readonly dest: Destination,
    private readonly store: Store,
    private readonly events: EmitterEvents,
    options: EmitterOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.onFailed = options.onFailed;
    this.scrub = options.scrub ?? ((s) => s);
  }

  get name(): string {
    return this.dest.name;
  }

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  /** New rows may be there. */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /**
   * The pipeline read everything there was and committed it. After a backlog (full batches were
   * sent), its remainder leaves now rather than after flush_interval; at a trickle, batches
   * still wait to fill for flush_interval, as configured.
   */
  caughtUp(): void {
    if (!this.backlog) return;
    this.backlogRead = true;
    this.wake();
  }

  /** Sends partial batches at once from now on (shutdown, --once). */
  drain(): void {
    this.draining = true;
    this.wake();
  }

  /**
   * True when nothing is queued or in flight for this output, or when it stopped on a failure
   * (nothing more will leave: what is queued waits for the next start).
   */
  idle(): boolean {
    if (this.failed) return true;
    if (this.inflight > 0) return false;
    try {
      return this.store.queue.next(this.pipeline, this.dest.name, 0, 1).length === 0;
    } catch (err) {
      if (isTransientStoreError(err)) return false;
      this.fail(err);
      return true;
    }
  }

  /** Stops sending; in-flight requests are aborted (their rows stay queued for next time). Once. */
  stop(): Promise<void> {
    return (this.stopped ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.running = false;
    this.abort.abort();
    this.wake();
    await this.loopDone;
    await this.dest.close();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const waitMs = this.dispatchSafely();
      if (!this.running) break;
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      if (waitMs === undefined) await woken;
      else {
        const timer = new AbortController();
        await Promise.race([woken, this.clock.sleep(waitMs, timer.signal)]);
        timer.abort();
      }
    }
    await Promise.all(this.sending);
  }

  /**
   * dispatchReady, with its store reads' failures on the emitter's failure path: one worth
   * waiting out (a busy or failing disk) is retried after a delay, any other stops the emitter.
   */
  private dispatchSafely(): number | undefined {
    try {
      const waitMs = this.dispatchReady();
      this.readFailures = 0;
      return waitMs;
    } catch (err) {
      if (!isTransientStoreError(err)) {
        this.fail(err);
        return undefined;
      }
      const delay = storeRetryDelayMs(this.readFailures++);
      this.lastError = `state store: ${err.code}`;
      this.events.storeRetry?.(this.dest.name, err.code, delay, this.readFailures);
      return delay;
    }
  }

  /** Starts every batch that is ready; returns how long until a partial batch is due, if any. */
  private dispatchReady(): number | undefined {
    const { maxEvents, maxBytes, flushIntervalMs, concurrency } = this.dest.limits;
    while (this.running && this.inflight < concurrency) {
      const batch: QueueRow[] = [];
      let events = 0;
      let bytes = 0;
      let full = false;
      let after = this.cursor;
      // Start small and double: a busy pipeline's rows hold a whole batch each, so reading many
      // rows' metadata to use one wastes main-thread time.
      let want = 2;
      outer: while (!full) {
        const rows = this.store.queue.next(this.pipeline, this.dest.name, after, want);
        if (rows.length === 0) break;
        for (const r of rows) {
          if (batch.length > 0 && (events + r.eventCount > maxEvents || bytes + r.bytes > maxBytes)) {
            full = true;
            break outer;
          }
          batch.push(r);
          events += r.eventCount;
          bytes += r.bytes;
          after = r.id;
          if (events >= maxEvents || bytes >= maxBytes) {
            full = true;
            break outer;
          }
        }
        if (rows.length < want) break;
        want = Math.min(want * 2, ROWS_PER_READ);
      }
      if (batch.length === 0) {
        this.backlogRead = false;
        return undefined;
      }
      const dueIn = batch[0]!.createdAt + flushIntervalMs - this.clock.now();
      if (!full && !this.draining && !this.backlogRead && dueIn > 0) return dueIn;
      if (full) this.backlog = true;
      else this.backlog = this.backlogRead = false;
      this.cursor = batch[batch.length - 1]!.id;
      this.inflight++;
      // Every failure ends in fail(), never as an unhandled rejection: the rows stay queued.
      const sent: Promise<void> = this.send(batch)
        .catch((err: unknown) => this.fail(err))
        .finally(() => {
          this.inflight--;
          this.sending.delete(sent);
          this.wake();
        });
      this.sending.add(sent);
    }
    return undefined;
  }

  private async send(rows: QueueRow[]): Promise<void> {
    const started = this.clock.now();
    const letters: Letter[] = [];
    try {
      const stored = this.storedRequest(rows);
      if (stored) await this.deliverAll(stored, rows, letters, started);
      else for (const part of this.decodedRequests(rows, letters)) await this.deliverAll(part, rows, letters, started);
    } catch (err) {
      if (this.abort.signal.aborted) return; // shutting down: the rows stay queued
      throw err;
    }
    const settled = await this.settle(() =>
      letters.length ? this.store.deadLetterRows(this.pipeline, this.dest.name, rows, letters) : this.store.ack(this.pipeline, this.dest.name, rows),
    );
    if (settled) this.reportDeadLetters(letters);
  }

  /** Counts dead letters by code, each code with its first reason. */
  private reportDeadLetters(letters: readonly Letter[]): void {
    const byCode = new Map<DeliveryDeadLetterCode, { count: number; reason: string }>();
    for (const l of letters) {
      const seen = byCode.get(l.code);
      if (seen) seen.count++;
      else byCode.set(l.code, { count: 1, reason: l.reason });
    }
    for (const [code, { count, reason }] of byCode) this.events.deadLettered(this.dest.name, count, code, reason);
  }

  /**
   * The one way out for an error the emitter cannot wait out: it stops sending (the rows stay
   * queued) and hands the error, with its code, to the daemon's failure path. Never throws.
   */
  private fail(err: unknown): void {
    if (this.abort.signal.aborted || this.failed) return;
    this.failed = true;
    this.running = false;
    const failure = withCode(err);
    this.lastError = `stopped: ${failure.code}`;
    this.wake();
    try {
      this.onFailed(failure);
    } catch (bug) {
      // The failure path itself failed: a bug, for the process-wide last resort
      // (ops/last-resort.ts logs it and exits), never a rejection of this batch's promise.
      queueMicrotask(() => {
        throw bug;
      });
    }
  }

  /**
   * The rows as stored, in one request, when the destination takes them so and every row is
   * known to fit the limits: the destination decompresses them off the main thread.
   */
  private storedRequest(rows: readonly QueueRow[]): Request | undefined {
    const stored = this.dest.stored;
    if (!stored) return undefined;
    const { maxEvents, maxBytes, maxMessageBytes } = this.dest.limits;
    let count = 0;
    let bytes = 0;
    for (const r of rows) {
      if (r.maxEventBytes === undefined || r.maxEventBytes > maxMessageBytes || !isSendableAsStored(r.payload)) return undefined;
      count += r.eventCount;
      bytes += r.bytes;
    }
    if (count > maxEvents || bytes + stored.overheadBytes > maxBytes) return undefined;
    const members = rows.map((r) => r.payload as Uint8Array);
    const events = (): string[] => rows.flatMap((r) => r.events());
    return { count, bytes, deliver: (signal) => stored.deliver(members, signal), events };
  }

  /** The rows' events decoded, too large ones dead-lettered, cut into requests within the limits. */
  private decodedRequests(rows: readonly QueueRow[], letters: Letter[]): Request[] {
    const { maxMessageBytes } = this.dest.limits;
    const toSend: string[] = [];
    /** UTF-8 size of each event in toSend, measured once for both limits. */
    const sizes: number[] = [];
    for (const r of rows) {
      for (const e of r.events()) {
        const size = Buffer.byteLength(e);
        if (size > maxMessageBytes) {
          letters.push(this.letter('too_large', e, `message larger than max_message_bytes (${maxMessageBytes})`, r));
        } else {
          toSend.push(e);
          sizes.push(size);
        }
      }
    }
    return [...this.splitByLimits(toSend, sizes)].map((events) => this.eventsRequest(events));
  }

  private eventsRequest(events: string[]): Request {
    return { count: events.length, bytes: sumLength(events), deliver: (signal) => this.dest.deliver(events, signal), events: () => events };
  }

  /**
   * Runs a store write, waiting out a full or failing disk. Gives up only on shutdown: the rows
   * then stay queued and are sent again at the next start (at-least-once, never lost).
   */
  private async settle(write: () => void): Promise<boolean> {
    for (let failures = 0; ; failures++) {
      try {
        write();
        return true;
      } catch (err) {
        if (!isTransientStoreError(err)) throw err;
        this.lastError = `state store: ${err.code}`;
        if (this.abort.signal.aborted) return false;
        const delay = storeRetryDelayMs(failures);
        this.events.storeRetry?.(this.dest.name, err.code, delay, failures + 1);
        await this.clock.sleep(delay, this.abort.signal);
      }
    }
  }

  /** Delivers a request, retrying what is retryable and bisecting what is refused as a whole. */
  private async deliverAll(req: Request, rows: QueueRow[], letters: Letter[], firstTry: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.abort.signal.aborted) throw new Error('aborted');
      const t0 = this.clock.now();
      const result = await req.deliver(this.abort.signal);
      if (this.abort.signal.aborted) throw new Error('aborted');
      if (result.kind === 'ok') {
        this.consecutiveFailures = 0;
        this.lastError = undefined;
        this.events.batchSent(this.dest.name, req.count, req.bytes, this.clock.now() - t0);
        return;
      }
      this.consecutiveFailures++;
      this.lastError = this.scrub(result.reason);
      if (result.kind === 'split' && req.count > 1) {
        this.events.batchFailed(this.dest.name, result, attempt, 0);
        const events = req.events();
        const mid = events.length >> 1;
        await this.deliverAll(this.eventsRequest(events.slice(0, mid)), rows, letters, firstTry);
        await this.deliverAll(this.eventsRequest(events.slice(mid)), rows, letters, firstTry);
        return;
      }
      if (result.kind === 'split' || result.kind === 'reject') {
        this.events.batchFailed(this.dest.name, result, attempt, 0);
        for (const e of req.events()) letters.push(this.letter('rejected', e, result.reason, rows[0]!, result.status, result.response, attempt + 1));
        return;
      }
      const { maxRetryAgeMs } = this.dest.retry;
      if (maxRetryAgeMs > 0 && this.clock.now() - firstTry >= maxRetryAgeMs) {
        for (const e of req.events()) letters.push(this.letter('max_retry_age', e, `gave up after max_retry_age: ${result.reason}`, rows[0]!, result.status, undefined, attempt + 1));
        return;
      }
      const delay = result.retryAfterMs ?? backoffDelayMs(this.dest.retry, attempt);
      this.events.batchFailed(this.dest.name, result, attempt, delay);
      await this.clock.sleep(delay, this.abort.signal);
    }
  }

  /** Requests within the destination's count and byte limits (rows may predate a config change). */
  private *splitByLimits(events: string[], sizes: readonly number[]): Generator<string[]> {
    const { maxEvents, maxBytes } = this.dest.limits;
    let part: string[] = [];
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const size = sizes[i]! + this.dest.perEventOverhead;
      if (part.length > 0 && (part.length >= maxEvents || bytes + size > maxBytes)) {
        yield part;
        part = [];
        bytes = 0;
      }
      part.push(e);
      bytes += size;
    }
    if (part.length) yield part;
  }

  private letter(code: DeliveryDeadLetterCode, payload: string, reason: string, row: QueueRow, status?: number, response?: string, attempts = 0): Letter {
    return {
      code,
      output: this.dest.name, kind: 'delivery', reason: this.scrub(reason), status: status ?? null, response: response === undefined ? null : this.scrub(response),
      file: row.fileKey, offset: row.startOffset, attempts, payload,
    };
  }
}

function sumLength(events: readonly string[]): number {
  let n = 0;
  for (const e of events) n += e.length;
  return n;
}

/** The error with a string code: its own (a store error's SQLITE_*) or TAILSHIP_OUTPUT_FAILED around it. */
function withCode(err: unknown): Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string') return err as Error & { code: string };
  const message = err instanceof Error ? err.message : String(err);
  return new TailshipError('TAILSHIP_OUTPUT_FAILED', message, {}, { cause: err });
}
