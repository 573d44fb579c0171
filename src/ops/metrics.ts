/**
 * Prometheus metrics (prom-client, on a registry of our own). Totals are read from the Observer
 * when /metrics is scraped, so the hot path never touches prom-client; only the two latency
 * histograms are observed as events happen. File labels are bounded by the Observer.
 */
import { fstatSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LINE_OUTCOMES, OUTCOME_LABELS, sumOutcomes } from '../store/line-outcomes.js';
import { VERSION } from '../version.js';
import type { Observer } from './observer.js';

/** A file as the metrics see it: its path, its open handle and its committed offset. */
export interface LiveFile {
  readonly path: string;
  readonly fd: number | undefined;
  readonly state: { readonly offset: number };
}

/** What the running daemon shows the metrics at scrape time. */
export interface LiveView {
  pipelines(): ReadonlyArray<{ readonly name: string; trackedFiles(): LiveFile[] }>;
  backpressure(): { paused: boolean; pausedMs: number };
}

const SEND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Metrics {
  readonly registry = new Registry();
  live: LiveView | undefined;
  readonly reloads: Counter<'result'>;
  /** Errors by where they happened and their code: store retries, fatal stops. */
  readonly errors: Counter<'component' | 'code'>;
  private readonly sendLatency: Histogram<'pipeline' | 'output'>;
  private readonly commitLatency: Histogram<'pipeline'>;

  constructor(private readonly obs: Observer) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'tailship_build_info', help: 'Always 1; the labels say which build runs.', labelNames: ['version', 'node'], registers }).set(
      { version: VERSION, node: process.version },
      1,
    );
    this.reloads = new Counter({ name: 'tailship_reloads_total', help: 'Config reloads (SIGHUP, POST /reload) by result.', labelNames: ['result'], registers });
    this.errors = new Counter({
      name: 'tailship_errors_total', help: 'Errors by component (pipeline, processing, emitter, store) and code: retried store writes, batches processed again after a worker died, fatal stops.',
      labelNames: ['component', 'code'], registers,
    });
    for (const result of ['ok', 'refused']) this.reloads.inc({ result }, 0);
    this.sendLatency = new Histogram({
      name: 'tailship_output_request_duration_seconds',
      help: 'Time of one successful delivery request.',
      labelNames: ['pipeline', 'output'],
      buckets: SEND_BUCKETS,
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'tailship_store_commit_seconds',
      help: 'Time to process one read (parse, map, encode) and commit it with its offset in one SQLite transaction.',
      labelNames: ['pipeline'],
      buckets: COMMIT_BUCKETS,
      registers,
    });

    const perPipeline = (name: string, help: string, value: (t: ReturnType<Observer['pipeline']>) => number): void => {
      new Counter({
        name, help, labelNames: ['pipeline'], registers,
        collect() {
          this.reset();
          for (const [p, t] of obs.pipelines) this.inc({ pipeline: p }, value(t));
        },
      });
    };
    perPipeline('tailship_input_lines_total', 'Lines read from files.', (t) => t.lines);
    perPipeline('tailship_events_queued_total', 'Events committed to the queue (per pipeline, before fan-out to outputs).', (t) => t.eventsQueued);
    perPipeline('tailship_timestamp_fallbacks_total', 'Events whose timestamp did not parse and fell back to the read time.', (t) => t.timestampFallbacks);
    perPipeline('tailship_files_rotated_total', 'Files renamed away (read to their end before closing).', (t) => t.filesRotated);
    perPipeline('tailship_files_truncated_total', 'Files truncated in place (copytruncate); read again from the start.', (t) => t.filesTruncated);
    perPipeline(
      'tailship_files_rotated_unread_total',
      'Files rotated away (or replaced while tailship was stopped) before they were read to their end.',
      (t) => t.filesRotatedUnread,
    );
    perPipeline('tailship_bytes_rotated_unread_total', 'Bytes lost with files rotated away before they were read to their end.', (t) => t.bytesRotatedUnread);
    perPipeline('tailship_lines_truncated_total', 'Lines longer than max_line_bytes, cut and flagged.', (t) => t.linesTruncated);
    perPipeline('tailship_read_errors_total', 'Errors opening or reading files.', (t) => t.readErrors);

    new Counter({
      name: 'tailship_input_bytes_total', help: 'Bytes read from files (file label bounded; the rest under file="other").', labelNames: ['pipeline', 'file'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) for (const [file, n] of t.fileBytes) this.inc({ pipeline: p, file }, n);
      },
    });
    new Counter({
      name: 'tailship_file_lines_read_total',
      help: 'Lines read per file (file label bounded); equal to the sum of tailship_line_outcomes_total over outcomes.',
      labelNames: ['pipeline', 'file'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) for (const [file, a] of t.fileLines) this.inc({ pipeline: p, file }, a.read);
      },
    });
    new Counter({
      name: 'tailship_line_outcomes_total',
      help: 'What became of each line read, per file: queued (made events), dead_letter_parse, dead_letter_mapping, parse_error_dropped, filtered, sampled_out, unmatched, multiline_merged, dropped_at_truncation.',
      labelNames: ['pipeline', 'file', 'outcome'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) {
          for (const [file, a] of t.fileLines) for (const k of LINE_OUTCOMES) this.inc({ pipeline: p, file, outcome: OUTCOME_LABELS[k] }, a.outcomes[k]);
        }
      },
    });
    new Gauge({
      name: 'tailship_line_accounting_gap',
      help: 'Lines read minus lines with a counted outcome, per pipeline: always 0 (anything else is a bug).',
      labelNames: ['pipeline'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) {
          let gap = 0;
          for (const a of t.fileLines.values()) gap += a.read - sumOutcomes(a.outcomes);
          this.set({ pipeline: p }, gap);
        }
      },
    });
    new Counter({
      name: 'tailship_lines_parsed_total', help: 'Lines by parse outcome (ok, error, raw).', labelNames: ['pipeline', 'outcome'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) for (const [outcome, n] of Object.entries(t.parsed)) this.inc({ pipeline: p, outcome }, n);
      },
    });
    new Counter({
      name: 'tailship_mapping_outcomes_total', help: 'Mapping outcomes: events made, errors, records dropped, sampled out or matching no rule.',
      labelNames: ['pipeline', 'outcome'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) for (const [outcome, n] of Object.entries(t.mapped)) this.inc({ pipeline: p, outcome }, n);
      },
    });
    new Counter({
      name: 'tailship_dead_letters_total', help: 'Events or lines moved to the dead letters, by reason.', labelNames: ['pipeline', 'output', 'reason'], registers,
      collect() {
        this.reset();
        for (const [p, t] of obs.pipelines) {
          for (const [reason, n] of Object.entries(t.deadLetters)) this.inc({ pipeline: p, output: 'none', reason }, n);
        }
        for (const o of obs.outputs.values()) for (const [reason, n] of o.deadLetters) this.inc({ pipeline: o.pipeline, output: o.output, reason }, n);
      },
    });

    const perOutput = (kind: 'counter' | 'gauge', name: string, help: string, value: (o: ReturnType<Observer['output']>) => number | undefined): void => {
      const collect = function (this: Counter<'pipeline' | 'output'> | Gauge<'pipeline' | 'output'>): void {
        this.reset();
        for (const o of obs.outputs.values()) {
          const v = value(o);
          if (v === undefined) continue;
          if (this instanceof Gauge) this.set({ pipeline: o.pipeline, output: o.output }, v);
          else this.inc({ pipeline: o.pipeline, output: o.output }, v);
        }
      };
      if (kind === 'counter') new Counter({ name, help, labelNames: ['pipeline', 'output'], registers, collect });
      else new Gauge({ name, help, labelNames: ['pipeline', 'output'], registers, collect });
    };
    perOutput('counter', 'tailship_output_sent_events_total', 'Events delivered (2xx).', (o) => o.eventsSent);
    perOutput('counter', 'tailship_output_sent_event_bytes_total', 'Bytes of the events delivered, in their wire form before compression.', (o) => o.bytesSent);
    perOutput('counter', 'tailship_output_retries_total', 'Delivery attempts that failed and will be retried.', (o) => o.retries);
    perOutput('gauge', 'tailship_queue_events', 'Events waiting in the queue.', (o) => o.queueEvents);
    perOutput(
      'counter', 'tailship_output_request_timeouts_total',
      'Requests the collector did not answer within the timeout (which then doubles, up to 8 × the output\'s `timeout`): raise `timeout` if this grows.',
      (o) => o.timeouts,
    );
    perOutput('gauge', 'tailship_queue_rows', 'Rows (chunks of events) waiting in the queue.', (o) => o.queueRows);
    perOutput('gauge', 'tailship_queue_bytes', 'Bytes of encoded events waiting in the queue.', (o) => o.queueBytes);
    perOutput('gauge', 'tailship_output_consecutive_failures', 'Failed delivery attempts since the last success.', (o) => o.consecutiveFailures);
    perOutput('gauge', 'tailship_output_last_success_timestamp_seconds', 'Unix time of the last successful delivery.', (o) =>
      o.lastSuccessMs === null ? undefined : o.lastSuccessMs / 1000,
    );
    new Counter({
      name: 'tailship_output_requests_total', help: 'Delivery requests by status class (2xx, 4xx, 5xx, error = no answer).', labelNames: ['pipeline', 'output', 'status'], registers,
      collect() {
        this.reset();
        for (const o of obs.outputs.values()) for (const [status, n] of o.batches) this.inc({ pipeline: o.pipeline, output: o.output, status }, n);
      },
    });

    const live = (): LiveView | undefined => this.live;
    new Gauge({
      name: 'tailship_file_lag_bytes', help: 'Bytes of an open file past its committed offset (file label bounded; the rest summed under file="other").',
      labelNames: ['pipeline', 'file'], registers,
      collect() {
        this.reset();
        for (const p of live()?.pipelines() ?? []) {
          for (const f of p.trackedFiles()) {
            const lag = fileLag(f);
            if (lag !== undefined) this.inc({ pipeline: p.name, file: obs.fileLabel(p.name, f.path) }, lag);
          }
        }
      },
    });
    new Gauge({
      name: 'tailship_files_open', help: 'Files being tailed.', labelNames: ['pipeline'], registers,
      collect() {
        this.reset();
        for (const p of live()?.pipelines() ?? []) this.set({ pipeline: p.name }, p.trackedFiles().filter((f) => f.fd !== undefined).length);
      },
    });
    new Gauge({
      name: 'tailship_backpressure_paused', help: '1 while reading is paused because the queue is above its high-water mark.', registers,
      collect() {
        this.set(live()?.backpressure().paused ? 1 : 0);
      },
    });
    let pausedReported = 0;
    new Counter({
      name: 'tailship_backpressure_paused_seconds_total', help: 'Time reading spent paused by backpressure.', registers,
      collect() {
        const s = (live()?.backpressure().pausedMs ?? 0) / 1000;
        if (s > pausedReported) this.inc(s - pausedReported);
        pausedReported = Math.max(pausedReported, s);
      },
    });
  }

  /** A pipeline's histogram series exist from the start (count 0), like its counters. */
  declare(pipeline: string, outputs: readonly string[]): void {
    this.commitLatency.zero({ pipeline });
    for (const output of outputs) this.sendLatency.zero({ pipeline, output });
  }

  observeSend(pipeline: string, output: string, ms: number): void {
    this.sendLatency.observe({ pipeline, output }, ms / 1000);
  }

  observeCommit(pipeline: string, ms: number): void {
    this.commitLatency.observe({ pipeline }, ms / 1000);
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Size of an open file minus its committed offset; undefined when it cannot be known. */
function fileLag(f: LiveFile): number | undefined {
  if (f.fd === undefined) return undefined;
  try {
    return Math.max(0, fstatSync(f.fd).size - f.state.offset);
  } catch {
    return undefined;
  }
}
