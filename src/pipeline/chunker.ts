/**
 * Builds the queue chunks of one commit for one output: encoded events cut so that no chunk
 * holds more events or bytes than one request may carry, each chunk packed in its stored form
 * (store/payload.ts). The emitter can then put whole rows into a request and delete whole rows
 * on success.
 */
import type { Encoder } from '../emit/destination.js';
import { packEvents } from '../store/payload.js';
import type { QueueChunk } from '../store/queue.js';

export interface ChunkLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

export class ChunkBuilder {
  private parts: string[] = [];
  private bytes = 0;
  private maxEventBytes = 0;
  private startOffset = -1;
  private endOffset = 0;
  readonly chunks: QueueChunk[] = [];

  constructor(
    readonly output: string,
    private readonly limits: ChunkLimits,
    private readonly encoder: Encoder,
    private readonly fileKey: string,
  ) {}

  add(encoded: string, lineStart: number, lineEnd: number): void {
    const eventBytes = Buffer.byteLength(encoded);
    // What the event takes in a request made of stored rows: itself, the separator and a newline.
    const size = eventBytes + this.encoder.separator.length + 1;
    if (this.parts.length > 0 && (this.parts.length >= this.limits.maxEvents || this.bytes + size > this.limits.maxBytes)) this.cut();
    if (this.startOffset < 0) this.startOffset = lineStart;
    this.endOffset = lineEnd;
    this.parts.push(encoded);
    this.bytes += size;
    if (eventBytes > this.maxEventBytes) this.maxEventBytes = eventBytes;
  }

  /** Chunks of everything added; the builder is empty afterwards. */
  finish(): QueueChunk[] {
    if (this.parts.length) this.cut();
    return this.chunks.splice(0);
  }

  private cut(): void {
    this.chunks.push({
      output: this.output, fileKey: this.fileKey, startOffset: this.startOffset, endOffset: this.endOffset,
      eventCount: this.parts.length, bytes: this.bytes, maxEventBytes: this.maxEventBytes,
      payload: packEvents(this.parts, this.encoder.separator),
    });
    this.parts = [];
    this.bytes = 0;
    this.maxEventBytes = 0;
    this.startOffset = -1;
  }
}
