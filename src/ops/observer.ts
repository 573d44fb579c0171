/**
 * The one implementation of the source, pipeline and emitter event interfaces: turns what the
 * stages report into log lines and running totals, which ops/metrics.ts exposes to Prometheus.
 * The stages never import the logger or the metrics library. Hot-path events (one per line)
 * only add to plain numbers; labels are resolved when /metrics is scraped.
 */
import type { DeliveryResult } from '../emit/destination.js';
import { DELIVERY_DEAD_LETTER_CODES, type DeliveryDeadLetterCode, type EmitterEvents } from '../emit/emitter.js';
import { addOutcomes, emptyOutcomes, type LineOutcomes } from '../store/line-outcomes.js';
import type { PipelineEvents } from '../run/pipeline.js';
import type { TapBatch } from '../run/tap.js';
import type { BatchFailureCode } from '../run/workers.js';
import type { Logger } from './logger.js';
import { Metrics, type LiveView } from './metrics.js';

/** Default number of distinct file labels in metrics; later files share the label "other". */
export const DEFAULT_MAX_FILE_LABELS = 100;
export const OTHER_FILE = 'other';

export type MappingOutcome = 'event' | 'error' | 'dropped' | 'sampled_out' | 'unmatched';
export type DeadLetterReason = 'parse' | 'mapping' | DeliveryDeadLetterCode;
const STATUS_CLASSES = ['2xx', '4xx', '5xx', 'error'] as const;

/** Running totals of one pipeline (kept across reloads, so counters stay monotonic). */
export class PipelineTotals {
  lines = 0;
  bytes = 0;
  parsed = { ok: 0, error: 0, raw: 0 };
  mapped: Record<MappingOutcome, number> = { event: 0, error: 0, dropped: 0, sampled_out: 0, unmatched: 0 };
  timestampFallbacks = 0;
  eventsQueued = 0;
  commits = 0;
  filesOpened = 0;
  filesRotated = 0;
  filesTruncated = 0;
  filesRotatedUnread = 0;
  bytesRotatedUnread = 0;
  linesTruncated = 0;
  readErrors = 0;
  deadLetters = { parse: 0, mapping: 0 };
  /** Bytes read per file label. */
  readonly fileBytes = new Map<string, number>();
  /** The latest files rotated away unread (newest last, at most RECENT_ROTATED_UNREAD), for the status page. */
  readonly rotatedUnread: Array<{ path: string; unreadBytes: number; atMs: number }> = [];
  /** Per file label, lines read and what became of them: `read` = the sum of `outcomes`. */
  readonly fileLines = new Map<string, { read: number; outcomes: LineOutcomes }>();

  fileAccount(label: string): { read: number; outcomes: LineOutcomes } {
    let a = this.fileLines.get(label);
    if (!a) this.fileLines.set(label, (a = { read: 0, outcomes: emptyOutcomes() }));
    return a;
  }
}

/** How many rotated-unread files each pipeline remembers for `tailship top` and the status page. */
export const RECENT_ROTATED_UNREAD = 20;

/** Running totals and health of one output. */
export class OutputTotals {
  readonly batches = new Map<string, number>();
  eventsSent = 0;
  bytesSent = 0;
  retries = 0;
  /** Requests the collector did not answer within the (adaptive) timeout. */
  timeouts = 0;
  readonly deadLetters = new Map<DeadLetterReason, number>();
  consecutiveFailures = 0;
  /** When the current run of failures started (null: the last attempt succeeded or none was made). */
  failingSinceMs: number | null = null;
  lastSuccessMs: number | null = null;
  lastError: string | undefined;
  queueRows = 0;
  queueBytes = 0;
  queueEvents = 0;

  constructor(
    readonly pipeline: string,
    readonly output: string,
  ) {
    // Every known label value from the start, at zero: a counter that first appears at 3 hides
    // its first increase from increase()/rate().
    for (const status of STATUS_CLASSES) this.batches.set(status, 0);
    for (const reason of DELIVERY_DEAD_LETTER_CODES) this.deadLetters.set(reason, 0);
  }
}

/** The events of one pipeline and its outputs, with the pipeline name bound. */
export type BoundEvents = PipelineEvents & EmitterEvents & {
  fileReopened?(path: string, offset: number): void;
  fileRotatedUnread?(path: string, unreadBytes: number): void;
};

export class Observer {
  readonly pipelines = new Map<string, PipelineTotals>();
  readonly outputs = new Map<string, OutputTotals>();
  readonly metrics: Metrics;
  private readonly fileLabels = new Map<string, string>();
  private readonly bound = new Map<string, BoundEvents>();
  /** Where the pipelines' copies for `tailship tap` go (the ops server's tap hub). */
  onTapped: ((pipeline: string, batch: TapBatch) => void) | undefined;

  constructor(
    private readonly log: Logger,
    readonly maxFileLabels = DEFAULT_MAX_FILE_LABELS,
    readonly now: () => number = Date.now,
  ) {
    this.metrics = new Metrics(this);
  }

  /** Gives the metrics a view of the running daemon (files, backpressure, store). */
  attach(view: LiveView): void {
    this.metrics.live = view;
  }

  /** The file's label in metrics: its path, until the limit; then "other". Stable once given. */
  fileLabel(pipeline: string, path: string): string {
    const key = `${pipeline}\0${path}`;
    let label = this.fileLabels.get(key);
    if (label === undefined) {
      label = this.fileLabels.size < this.maxFileLabels ? path : OTHER_FILE;
      this.fileLabels.set(key, label);
    }
    return label;
  }

  pipeline(name: string): PipelineTotals {
    let t = this.pipelines.get(name);
    if (!t) this.pipelines.set(name, (t = new PipelineTotals()));
    return t;
  }

  output(pipeline: string, output: string): OutputTotals {
    const key = `${pipeline}\0${output}`;
    let t = this.outputs.get(key);
    if (!t) this.outputs.set(key, (t = new OutputTotals(pipeline, output)));
    return t;
  }

  /** Sets an output's queue depth (at start-up, from the store). */
  queueDepth(pipeline: string, output: string, rows: number, bytes: number, events: number): void {
    const o = this.output(pipeline, output);
    o.queueRows = rows;
    o.queueBytes = bytes;
    o.queueEvents = events;
  }

  /** The store's queue changed (commit, ack, dead letter). */
  queueChanged(pipeline: string, output: string, rowsDelta: number, bytesDelta: number, eventsDelta: number): void {
    const o = this.output(pipeline, output);
    o.queueRows += rowsDelta;
    o.queueBytes += bytesDelta;
    o.queueEvents += eventsDelta;
  }

  /** A pipeline and its outputs exist: their series appear at zero before anything happens. */
  declare(pipeline: string, outputs: readonly string[]): void {
    this.pipeline(pipeline);
    for (const o of outputs) this.output(pipeline, o);
    this.metrics.declare(pipeline, outputs);
  }

  reloaded(ok: boolean, detail: Record<string, unknown>): void {
    this.metrics.reloads.inc({ result: ok ? 'ok' : 'refused' });
    if (ok) this.log.info(detail, 'config reloaded');
    else this.log.error(detail, 'config reload refused: the running config stays');
  }

  /** The events of one pipeline; the same object for the same name, across reloads. */
  forPipeline(name: string): BoundEvents {
    const known = this.bound.get(name);
    if (known) return known;
    const t = this.pipeline(name);
    const log = this.log.child({ pipeline: name });
    const metrics = this.metrics;
    const self = this;
    const b: BoundEvents = {
      fileOpened(path, offset, reason) {
        t.filesOpened++;
        if (reason === 'changed-while-stopped' || reason === 'reused-inode') {
          log.warn({ file: path, reason }, 'file replaced while tailship was stopped: reading the new file from its start');
        } else log.info({ file: path, offset, reason }, 'tailing file');
      },
      fileReopened(path, offset) {
        log.debug({ file: path, offset }, 'file reopened');
      },
      fileRotatedUnread(path, unreadBytes) {
        t.filesRotatedUnread++;
        t.bytesRotatedUnread += unreadBytes;
        t.rotatedUnread.push({ path, unreadBytes, atMs: self.now() });
        if (t.rotatedUnread.length > RECENT_ROTATED_UNREAD) t.rotatedUnread.shift();
        log.warn({ file: path, unreadBytes }, 'file rotated away before it was read to its end: these bytes are lost');
      },
      fileRotated(path) {
        t.filesRotated++;
        log.info({ file: path }, 'file rotated away: reading it to its end');
      },
      fileTruncated(path) {
        t.filesTruncated++;
        log.warn({ file: path }, 'file truncated: reading again from its start');
      },
      fileClosed(path, reason) {
        log.info({ file: path, reason }, 'file closed');
      },
      lineTruncated(path) {
        t.linesTruncated++;
        log.warn({ file: path }, 'line longer than max_line_bytes: cut and flagged');
      },
      readError(path, err) {
        t.readErrors++;
        log.error({ file: path, err }, 'read error');
      },
      processed(_p, c, file) {
        t.lines += c.lines;
        t.bytes += c.bytes;
        const label = self.fileLabel(name, file);
        t.fileBytes.set(label, (t.fileBytes.get(label) ?? 0) + c.bytes);
        const account = t.fileAccount(label);
        account.read += c.lines;
        addOutcomes(account.outcomes, c.outcomes);
        t.parsed.ok += c.parsed.ok;
        t.parsed.error += c.parsed.error;
        t.parsed.raw += c.parsed.raw;
        t.mapped.event += c.events;
        t.mapped.error += c.mappingErrors;
        t.mapped.dropped += c.dropped;
        t.mapped.sampled_out += c.sampledOut;
        t.mapped.unmatched += c.unmatched;
        t.timestampFallbacks += c.timestampFallbacks;
      },
      committed(_p, events, ms?: number) {
        t.commits++;
        t.eventsQueued += events;
        if (ms !== undefined) metrics.observeCommit(name, ms);
      },
      linesDroppedAtTruncation(_p: string, file: string, lines: number) {
        t.lines += lines;
        const account = t.fileAccount(self.fileLabel(name, file));
        account.read += lines;
        account.outcomes.droppedAtTruncation += lines;
        log.warn({ file, lines }, 'file truncated while lines of it were held back (no newline yet, or an open multiline group): they are dropped and counted');
      },
      processingFailed(_p: string, code: BatchFailureCode, reason: string, lines: number) {
        metrics.errors.inc({ component: 'processing', code });
        const msg = code === 'worker_died'
          ? 'a processing worker died and was replaced: its batch is processed again in parts, and the lines that fail alone become parse dead letters'
          : 'processing failed outside a line: the batch is processed again in parts, and the lines that fail alone become parse dead letters';
        log.warn({ code, reason, lines }, msg);
      },
      linesDeadLettered(_p: string, kind: 'parse' | 'mapping', count: number) {
        t.deadLetters[kind] += count;
      },
      storeUnavailable(_p: string, err: unknown, retryInMs: number, failures: number) {
        const code = (err as { code?: string }).code;
        metrics.errors.inc({ component: 'pipeline', code: code ?? 'unknown' });
        const msg = code === 'SQLITE_FULL' ? 'state store full (disk full?): reading paused, nothing is lost; retrying the commit' : 'state store cannot write: reading paused, nothing is lost; retrying the commit';
        (failures === 1 || failures % 10 === 0 ? log.error : log.debug).call(log, { code, err, retryInMs, failures }, msg);
      },
      noFileMatched(_p: string, globs: readonly string[]) {
        log.warn({ paths: globs }, 'no file matches these paths (a typo, or no file yet): tailship watches for them to appear');
      },
      storeRecovered(_p: string, pausedMs: number) {
        log.info({ pausedMs }, 'state store writable again: reading resumed');
      },
      tapped(_p: string, batch: TapBatch) {
        self.onTapped?.(name, batch);
      },
      batchSent(output, events, bytes?: number, latencyMs?: number) {
        const o = self.output(name, output);
        o.batches.set('2xx', (o.batches.get('2xx') ?? 0) + 1);
        o.eventsSent += events;
        o.bytesSent += bytes ?? 0;
        o.consecutiveFailures = 0;
        o.failingSinceMs = null;
        o.lastSuccessMs = self.now();
        o.lastError = undefined;
        if (latencyMs !== undefined) metrics.observeSend(name, output, latencyMs);
        log.debug({ output, events }, 'batch delivered');
      },
      batchFailed(output, result: Exclude<DeliveryResult, { kind: 'ok' }>, attempt, delayMs) {
        const o = self.output(name, output);
        const cls = statusClass(result.status);
        o.batches.set(cls, (o.batches.get(cls) ?? 0) + 1);
        if (result.kind === 'retry') o.retries++;
        o.consecutiveFailures++;
        o.failingSinceMs ??= self.now();
        o.lastError = result.reason;
        const level = attempt === 0 || attempt % 10 === 0 ? 'warn' : 'debug';
        if (result.kind === 'retry' && result.timedOut) {
          o.timeouts++;
          const { afterMs, nextMs, capped } = result.timedOut;
          // Every time: a collector slower than the timeout is the one thing to fix here.
          log.warn(
            { output, code: 'REQUEST_TIMEOUT', timeoutMs: afterMs, nextTimeoutMs: nextMs, attempt, retryInMs: delayMs },
            capped
              ? `collector slower than the request timeout: no answer within ${afterMs} ms, the cap (8 × timeout); raise the output's \`timeout\` if the collector is this slow`
              : `collector slower than the request timeout: no answer within ${afterMs} ms; the next attempt waits ${nextMs} ms (raise the output's \`timeout\` if the collector is this slow)`,
          );
          return;
        }
        log[level]({ output, reason: result.reason, status: result.status, attempt, retryInMs: delayMs }, `delivery failed (${result.kind})`);
      },
      storeRetry(output: string, code: string, retryInMs: number, failures: number) {
        metrics.errors.inc({ component: 'emitter', code });
        (failures === 1 || failures % 10 === 0 ? log.error : log.debug).call(
          log,
          { output, code, retryInMs, failures },
          'state store cannot write: acknowledgement retried (delivered events stay queued until it goes through)',
        );
      },
      deadLettered(output, count, code, reason) {
        const o = self.output(name, output);
        o.deadLetters.set(code, (o.deadLetters.get(code) ?? 0) + count);
        log.error({ output, count, code, reason }, 'events moved to dead letters');
      },
    };
    this.bound.set(name, b);
    return b;
  }
}

/** "2xx", "4xx", "5xx", or "error" for a failure without a status (network, timeout). */
export function statusClass(status: number | undefined): string {
  return status === undefined ? 'error' : `${Math.floor(status / 100)}xx`;
}
