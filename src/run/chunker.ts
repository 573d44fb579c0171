/**
 * Builds the queue chunks of one commit for one output: encoded events cut so that no chunk
 * holds more events or bytes than one request may carry, each chunk packed in its stored form
 * (store/payload.ts). The emitter can then put whole rows into a request and delete whole rows
 * on success.
 */
import type { Encoder } from '../emit/destination.js';
import { RowBytes } from '../store/payload.js';
import type { QueueChunk } from '../store/queue.js';

export interface ChunkLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

/** Past this, a row buffer is not kept, whatever the output's limits (stdout and file allow 64 MiB). */
const MAX_KEPT_ROW_BYTES = 8 * 1024 * 1024;

/**
 * The row buffer for an output's chunks. A row holds at most `maxBytes` of events, so a buffer
 * past 4 times that grew for one oversized event and is not kept.
 */
export function rowBytesFor(encoder: Encoder, limits: ChunkLimits): RowBytes {
  const form = { spliced: encoder.splicedRows === true, slot: encoder.sendStamp };
  return new RowBytes(encoder.separator, Math.min(limits.maxBytes, 64 * 1024), Math.min(4 * limits.maxBytes, MAX_KEPT_ROW_BYTES), form);
}

export class ChunkBuilder {
  /** What the row's events take in a request made of stored rows: each with a separator, a newline and its send-time stamp. */
  private bytes = 0;
  private maxEventBytes = 0;
  private startOffset = -1;
  private endOffset = 0;
  /** Bytes each event adds to a request beyond its own: its separator, a newline, its send-time stamp (with its pad in spliced rows). */
  private readonly perEvent: number;
  readonly chunks: QueueChunk[] = [];

  constructor(
    readonly output: string,
    private readonly limits: ChunkLimits,
    encoder: Encoder,
    private readonly fileKey: string,
    /** Kept from batch to batch by the caller (process.ts), or a new one. */
    private readonly row: RowBytes = rowBytesFor(encoder, limits),
  ) {
    this.perEvent = encoder.separator.length + 1 + Math.max(row.stampBytesPerEvent, encoder.sendStamp?.bytesPerMessage ?? 0);
    // A batch that threw midway may have left events in a row kept from batch to batch.
    row.clear();
  }

  add(encoded: string, lineStart: number, lineEnd: number): void {
    if (this.row.events > 0 && (this.row.events >= this.limits.maxEvents || this.wouldOverflow(encoded))) this.cut();
    if (this.startOffset < 0) this.startOffset = lineStart;
    this.endOffset = lineEnd;
    const eventBytes = this.row.append(encoded);
    this.bytes += eventBytes + this.perEvent;
    if (eventBytes > this.maxEventBytes) this.maxEventBytes = eventBytes;
  }

  /** Chunks of everything added; the builder is empty afterwards. */
  finish(): QueueChunk[] {
    if (this.row.events > 0) this.cut();
    return this.chunks.splice(0);
  }

  /** Whether the event would take the row past maxBytes; measured only when its upper bound does. */
  private wouldOverflow(encoded: string): boolean {
    const limit = this.limits.maxBytes - this.bytes - this.perEvent;
    return 3 * encoded.length > limit && Buffer.byteLength(encoded) > limit;
  }

  private cut(): void {
    this.chunks.push({
      output: this.output, fileKey: this.fileKey, startOffset: this.startOffset, endOffset: this.endOffset,
      eventCount: this.row.events, bytes: this.bytes, maxEventBytes: this.maxEventBytes,
      payload: this.row.pack(),
    });
    this.bytes = 0;
    this.maxEventBytes = 0;
    this.startOffset = -1;
  }
}
