/**
 * The one implementation of the source, pipeline and emitter event interfaces: turns what the
 * stages report into log lines and counters. The stages never import the logger or metrics.
 */
import type { DeliveryResult } from '../emit/destination.js';
import type { EmitterEvents } from '../emit/emitter.js';
import type { PipelineEvents } from '../pipeline/pipeline.js';
import type { Logger } from './logger.js';

export class Counters {
  private readonly values = new Map<string, number>();
  inc(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }
  get(name: string): number {
    return this.values.get(name) ?? 0;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}

export class Observer implements PipelineEvents, EmitterEvents {
  readonly counters = new Counters();

  constructor(private readonly log: Logger) {}

  fileOpened(path: string, offset: number, reason: string): void {
    this.counters.inc('files_opened');
    this.log.info({ file: path, offset, reason }, 'tailing file');
  }
  fileRotated(path: string): void {
    this.counters.inc('files_rotated');
    this.log.info({ file: path }, 'file rotated away: reading it to its end');
  }
  fileTruncated(path: string): void {
    this.counters.inc('files_truncated');
    this.log.warn({ file: path }, 'file truncated: reading again from its start');
  }
  fileClosed(path: string, reason: string): void {
    this.counters.inc(`files_closed_${reason}`);
    this.log.info({ file: path, reason }, 'file closed');
  }
  lineTruncated(path: string): void {
    this.counters.inc('lines_truncated');
    this.log.warn({ file: path }, 'line longer than max_line_bytes: cut and flagged');
  }
  readError(path: string, err: unknown): void {
    this.counters.inc('read_errors');
    this.log.error({ file: path, err }, 'read error');
  }
  linesRead(_pipeline: string, lines: number, bytes: number): void {
    this.counters.inc('lines_read', lines);
    this.counters.inc('bytes_read', bytes);
  }
  parsed(_pipeline: string, outcome: string): void {
    this.counters.inc(`lines_parsed_${outcome}`);
  }
  mapped(_pipeline: string, outcome: string, count: number): void {
    this.counters.inc(`events_${outcome === 'event' ? 'mapped' : 'mapping_errors'}`, count);
  }
  committed(_pipeline: string, events: number): void {
    this.counters.inc('commits');
    this.counters.inc('events_queued', events);
  }
  batchSent(output: string, events: number): void {
    this.counters.inc('batches_sent');
    this.counters.inc('events_sent', events);
    this.log.debug({ output, events }, 'batch delivered');
  }
  batchFailed(output: string, result: Exclude<DeliveryResult, { kind: 'ok' }>, attempt: number, delayMs: number): void {
    this.counters.inc(`batches_failed_${result.kind}`);
    const level = attempt === 0 || attempt % 10 === 0 ? 'warn' : 'debug';
    this.log[level]({ output, reason: result.reason, status: 'status' in result ? result.status : undefined, attempt, retryInMs: delayMs }, `delivery failed (${result.kind})`);
  }
  deadLettered(output: string, count: number, reason: string): void {
    this.counters.inc('dead_letters', count);
    this.log.error({ output, count, reason }, 'events moved to dead letters');
  }
}
