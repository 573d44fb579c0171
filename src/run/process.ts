/**
 * The per-line work of a pipeline: decode, parse, map, encode for each output, cut into queue
 * chunks and compress them. It runs on the processing workers (run/workers.ts), or inline
 * with `workers: 0`, and touches no shared state: the main thread commits what it returns, in
 * read order, with the file's offset (run/pipeline.ts).
 */
import type { PipelineConfig } from '../config/schema.js';
import { isParseError, type LogRecord, type Parser } from '../../parsers/types.js';
import { EncodeRefusal, type Encoder } from '../emit/destination.js';
import type { DeadLetterInput } from '../store/dead-letters.js';
import type { RowBytes } from '../store/payload.js';
import type { QueueChunk } from '../store/queue.js';
import { ChunkBuilder, type ChunkLimits } from './chunker.js';
import type { Mapper, RuleWriters } from '../mapping/event.js';
import type { LineBatch } from '../source/line-batch.js';
import type { MappingHooks } from '../mapping/mapping.js';
import { recordOverLimits, type RecordLimits } from '../mapping/record-limits.js';
import { emptyOutcomes, type LineOutcomes } from '../store/line-outcomes.js';
import type { Tap, TapBatch } from './tap.js';

export interface OutputEncoding extends ChunkLimits {
  readonly name: string;
  readonly encoder: Encoder;
  /**
   * The output's row buffer, reused by every batch: a new one per batch grew from 64 KB to fit
   * a row (256 KB at batch_size 250), and those buffers, promoted while the batch ran, waited
   * for a full GC, raising the peak while catching up after an outage.
   */
  readonly row: RowBytes;
}

/** What one batch made, and what happened to its lines (for metrics). */
export interface ProcessResult {
  chunks: QueueChunk[];
  letters: DeadLetterInput[];
  counts: ProcessCounts;
  /** Copies for `tailship tap`, only while one is attached. */
  tapped?: TapBatch;
}

export interface ProcessCounts {
  /** Lines read: a joined group (multiline, container partial lines) counts each line it holds. */
  lines: number;
  /** What became of each line read: the terms of the accounting (store/line-outcomes.ts). */
  outcomes: LineOutcomes;
  bytes: number;
  parsed: { ok: number; error: number; raw: number };
  events: number;
  mappingErrors: number;
  timestampFallbacks: number;
  dropped: number;
  sampledOut: number;
  unmatched: number;
}

const zeroCounts = (): ProcessCounts => ({
  lines: 0, outcomes: emptyOutcomes(), bytes: 0, parsed: { ok: 0, error: 0, raw: 0 }, events: 0, mappingErrors: 0, timestampFallbacks: 0, dropped: 0, sampledOut: 0, unmatched: 0,
});

/** What a read without lines (only its offset moved: a skipped over-long line's rest) makes. */
export function emptyResult(): ProcessResult {
  return { chunks: [], letters: [], counts: zeroCounts() };
}

/** Mapping hooks that count into the batch being processed. */
export class CountingHooks implements MappingHooks {
  counts = zeroCounts();
  timestampFallback(): void {
    this.counts.timestampFallbacks++;
  }
  dropped(): void {
    this.counts.dropped++;
  }
  sampledOut(): void {
    this.counts.sampledOut++;
  }
  unmatched(): void {
    this.counts.unmatched++;
  }
}

export interface ProcessStages {
  readonly config: Pick<PipelineConfig, 'on_parse_error' | 'raw_field' | 'on_long_line'>;
  readonly limits: RecordLimits;
  readonly parser: Parser;
  /** Compiled with `hooks` below, so that its counts land in each result. */
  readonly mapper: Mapper;
  readonly hooks: CountingHooks;
  readonly outputs: readonly OutputEncoding[];
  /** Set while a `tailship tap` viewer is attached to the pipeline. */
  tap?: Tap | undefined;
  /** The message JSON every output takes, when they all take the same one. */
  readonly jsonDialect?: string | undefined;
  /** Writers of that form, built by the outputs' protocol from the mapper's rules (stages.ts). */
  readonly writers?: RuleWriters | undefined;
}

/**
 * The message JSON every output takes, when they all take the same one: the mapper can then
 * write events straight to it with the writers its protocol builds (stages.ts).
 */
export function commonMessageDialect(outputs: ReadonlyArray<Pick<OutputEncoding, 'encoder'>>): string | undefined {
  const first = outputs[0]?.encoder.messageJson;
  return first !== undefined && outputs.every((o) => o.encoder.messageJson === first) ? first : undefined;
}

export function processBatch(stages: ProcessStages, batch: LineBatch): ProcessResult {
  const { outputs } = stages;
  const counts = (stages.hooks.counts = zeroCounts());
  const builders = outputs.map((o) => new ChunkBuilder(o.name, o, o.encoder, batch.fileKey, o.row));
  const letters: DeadLetterInput[] = [];
  const { file, spans, joined } = batch;
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const truncated = new Set(batch.truncated);
  const tapped: TapBatch | undefined = stages.tap && { events: [], overflow: 0 };
  const writers = stages.jsonDialect !== undefined && commonMessageDialect(outputs) === stages.jsonDialect ? stages.writers : undefined;
  const line: LineWork = { stages, batch, builders, letters, counts, writers, encoded: [], tapped };
  for (let i = 0; i < batch.count; i++) {
    const k = 4 * i;
    const start = spans[k + 2]!;
    const end = spans[k + 3]!;
    const text = bytes.toString('utf8', spans[k]!, spans[k + 1]!);
    counts.bytes += end - start;
    if (joined) counts.outcomes.merged += joined[i]! - 1;
    const eventsBefore = counts.events;
    try {
      processLine(line, text, start, end, truncated.size > 0 && truncated.has(i));
    } catch (err) {
      // A bug or a bound we missed in a parser, a rule or an encoder: the line is a dead letter,
      // the batch goes on. The events it may have made are not added (encoded before adding).
      counts.events = eventsBefore;
      const stage = line.stage ?? 'parse';
      counts.outcomes[stage === 'parse' ? 'deadLetterParse' : 'deadLetterMapping']++;
      letters.push({ kind: stage, reason: `${stage === 'parse' ? 'parser' : 'mapping'} failed on this line: ${describeError(err)}`, file, offset: start, payload: text });
    }
  }
  counts.lines = batch.count + counts.outcomes.merged;
  const result: ProcessResult = { chunks: builders.flatMap((b) => b.finish()), letters, counts };
  if (tapped && (tapped.events.length || tapped.overflow)) result.tapped = tapped;
  return result;
}

/** What processLine works with; `stage` says where an exception came from. */
interface LineWork {
  readonly stages: ProcessStages;
  readonly batch: LineBatch;
  readonly builders: ChunkBuilder[];
  readonly letters: DeadLetterInput[];
  readonly counts: ProcessCounts;
  /** The writers events are written with, when every output takes what they write. */
  readonly writers: RuleWriters | undefined;
  /** Per event, its text for each output (undefined: that output's protocol refused it): all are made before any is added to a row. */
  readonly encoded: Array<string | undefined>;
  readonly tapped: TapBatch | undefined;
  stage?: 'parse' | 'mapping';
}

/** One line: parse, check bounds, map, encode; its outcome is counted exactly once. */
function processLine(w: LineWork, text: string, start: number, end: number, cut: boolean): void {
  const { config, parser, mapper, limits, outputs } = w.stages;
  const { counts, letters } = w;
  const { file, fileKey, readAtMs } = w.batch;
  const outcomes = counts.outcomes;
  w.stage = 'parse';
  if (cut && config.on_long_line === 'dead_letter') {
    counts.parsed.error++;
    outcomes.deadLetterParse++;
    letters.push({ kind: 'parse', reason: `line of ${end - start} bytes is longer than max_line_bytes: its first ${Buffer.byteLength(text)} bytes are kept here (on_long_line: dead_letter)`, file, offset: start, payload: text });
    return;
  }
  let record: LogRecord;
  const parsed = parser.parse(text, { file, offset: end, maxFields: limits.maxFields });
  const reason = isParseError(parsed) ? parsed.reason : recordOverLimits(parsed, limits);
  if (reason !== undefined) {
    if (isParseError(parsed) && config.on_parse_error === 'raw') {
      counts.parsed.raw++;
      record = { [config.raw_field]: text };
    } else {
      counts.parsed.error++;
      if (isParseError(parsed) && config.on_parse_error === 'drop') {
        outcomes.parseErrorDropped++;
        return;
      }
      // A record past a bound is a dead letter whatever on_parse_error says: kept raw, its line
      // would still be what was too big.
      outcomes.deadLetterParse++;
      letters.push({ kind: 'parse', reason, file, offset: start, payload: text });
      return;
    }
  } else {
    counts.parsed.ok++;
    record = parsed as LogRecord;
  }
  if (cut) record._truncated = true;
  w.stage = 'mapping';
  const meta = { fileKey, file, offset: start, readAtMs };
  // The mapping hooks count into `counts`: what they add for this line says why it made no event.
  const droppedBefore = counts.dropped;
  const sampledOutBefore = counts.sampledOut;
  const encoded = w.encoded;
  encoded.length = 0;
  const lineLetters: DeadLetterInput[] = [];
  let added = 0;
  for (const o of w.writers ? mapper.mapWith(record, meta, w.writers) : mapper.map(record, meta)) {
    if (!o.ok) {
      counts.mappingErrors++;
      lineLetters.push({ kind: 'mapping', reason: o.reason, file, offset: start, payload: text });
      continue;
    }
    if (w.tapped) w.stages.tap!.offer(w.tapped, o.rule, 'json' in o ? o.json : o.event, file, start, text);
    for (let j = 0; j < outputs.length; j++) {
      try {
        encoded.push('json' in o ? o.json : outputs[j]!.encoder.encode(o.event));
        added++;
      } catch (err) {
        if (!(err instanceof EncodeRefusal)) throw err;
        // Refused by this output's protocol only: a dead letter for it, the other outputs still get the event.
        counts.mappingErrors++;
        encoded.push(undefined);
        lineLetters.push({ output: outputs[j]!.name, kind: 'mapping', reason: `output ${outputs[j]!.name}: ${err.message}`, file, offset: start, payload: text });
      }
    }
  }
  // Nothing below throws: the line's events and dead letters go in together.
  const events = encoded.length / Math.max(1, outputs.length);
  for (let e = 0; e < events; e++) {
    for (let j = 0; j < outputs.length; j++) {
      const text = encoded[e * outputs.length + j];
      if (text !== undefined) w.builders[j]!.add(text, start, end);
    }
  }
  counts.events += events;
  for (const l of lineLetters) letters.push(l);
  if (added > 0) outcomes.queued++;
  else if (lineLetters.length > 0) outcomes.deadLetterMapping++;
  else if (counts.dropped > droppedBefore) outcomes.filtered++;
  else if (counts.sampledOut > sampledOutBefore) outcomes.sampledOut++;
  else outcomes.unmatched++;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
