/**
 * The per-line work of a pipeline: decode, parse, map, encode for each output, cut into queue
 * chunks and compress them. It runs on the processing workers (pipeline/workers.ts), or inline
 * with `workers: 0`, and touches no shared state: the main thread commits what it returns, in
 * read order, with the file's offset (pipeline/pipeline.ts).
 */
import type { PipelineConfig } from '../config/schema.js';
import { isParseError, type LogRecord, type Parser } from '../../parsers/types.js';
import type { Encoder } from '../emit/destination.js';
import type { DeadLetterInput } from '../store/dead-letters.js';
import type { RowBytes } from '../store/payload.js';
import type { QueueChunk } from '../store/queue.js';
import { ChunkBuilder, type ChunkLimits } from './chunker.js';
import type { Mapper } from './event.js';
import type { LineBatch } from './line-batch.js';
import type { MappingHooks } from './mapping.js';
import type { MessageDialect } from './message-json.js';

export interface OutputEncoding extends ChunkLimits {
  readonly name: string;
  readonly encoder: Encoder;
  /**
   * The output's row buffer, reused by every batch: a new one per batch grew from 64 KB to fit
   * a row (256 KB at batch_size 250), and those buffers, promoted while the batch ran, waited
   * for a full GC (catching up after an outage peaked 30–45 MiB higher; bench/RESULTS.md,
   * attempt 43).
   */
  readonly row: RowBytes;
}

/** What one batch made, and what happened to its lines (for metrics). */
export interface ProcessResult {
  chunks: QueueChunk[];
  letters: DeadLetterInput[];
  counts: ProcessCounts;
}

export interface ProcessCounts {
  lines: number;
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
  lines: 0, bytes: 0, parsed: { ok: 0, error: 0, raw: 0 }, events: 0, mappingErrors: 0, timestampFallbacks: 0, dropped: 0, sampledOut: 0, unmatched: 0,
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
  readonly config: Pick<PipelineConfig, 'on_parse_error' | 'raw_field'>;
  readonly parser: Parser;
  /** Compiled with `hooks` below, so that its counts land in each result. */
  readonly mapper: Mapper;
  readonly hooks: CountingHooks;
  readonly outputs: readonly OutputEncoding[];
  /** The dialect the mapper's `mapToJson` writes, when every output takes it. */
  readonly jsonDialect?: MessageDialect | undefined;
}

/**
 * The message JSON every output takes, when they all take the same one: the mapper (compiled
 * for it, stages.ts) can then write events straight to it.
 */
export function commonMessageDialect(outputs: ReadonlyArray<Pick<OutputEncoding, 'encoder'>>): MessageDialect | undefined {
  const first = outputs[0]?.encoder.messageJson;
  return first !== undefined && outputs.every((o) => o.encoder.messageJson === first) ? first : undefined;
}

export function processBatch(stages: ProcessStages, batch: LineBatch): ProcessResult {
  const { config, parser, mapper, hooks, outputs } = stages;
  const counts = (hooks.counts = zeroCounts());
  const builders = outputs.map((o) => new ChunkBuilder(o.name, o, o.encoder, batch.fileKey, o.row));
  const letters: DeadLetterInput[] = [];
  const { file, fileKey, readAtMs, spans, texts } = batch;
  const bytes = batch.bytes ? Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength) : undefined;
  const truncated = new Set(batch.truncated);
  const json = stages.jsonDialect !== undefined && commonMessageDialect(outputs) === stages.jsonDialect;
  for (let i = 0; i < batch.count; i++) {
    const k = 4 * i;
    const start = spans[k + 2]!;
    const end = spans[k + 3]!;
    const text = texts ? texts[i]! : bytes!.toString('utf8', spans[k]!, spans[k + 1]!);
    counts.bytes += end - start;
    let record: LogRecord;
    const parsed = parser.parse(text, { file, offset: end });
    if (isParseError(parsed)) {
      if (config.on_parse_error === 'dead_letter') {
        counts.parsed.error++;
        letters.push({ kind: 'parse', reason: parsed.reason, file, offset: start, payload: text });
        continue;
      }
      if (config.on_parse_error === 'drop') {
        counts.parsed.error++;
        continue;
      }
      counts.parsed.raw++;
      record = { [config.raw_field]: text };
    } else {
      counts.parsed.ok++;
      record = parsed;
    }
    if (truncated.size && truncated.has(i)) record._truncated = true;
    const meta = { fileKey, file, offset: start, readAtMs };
    for (const o of json ? mapper.mapToJson(record, meta) : mapper.map(record, meta)) {
      if (!o.ok) {
        counts.mappingErrors++;
        letters.push({ kind: 'mapping', reason: o.reason, file, offset: start, payload: text });
        continue;
      }
      counts.events++;
      for (let j = 0; j < outputs.length; j++) builders[j]!.add('json' in o ? o.json : outputs[j]!.encoder.encode(o.event), start, end);
    }
  }
  counts.lines = batch.count;
  return { chunks: builders.flatMap((b) => b.finish()), letters, counts };
}
