/**
 * Builds the queue chunks of one commit for one output: encoded events joined by "\n", cut so
 * that no chunk holds more events or bytes than one request may carry. The emitter can then put
 * whole rows into a request and delete whole rows on success.
 */
import type { QueueChunk } from '../store/queue.js';

export class ChunkBuilder {
  private parts: string[] = [];
  private bytes = 0;
  private startOffset = -1;
  private endOffset = 0;
  readonly chunks: QueueChunk[] = [];

  constructor(
    readonly output: string,
    private readonly maxEvents: number,
    private readonly maxBytes: number,
    private readonly fileKey: string,
  ) {}

  add(encoded: string, lineStart: number, lineEnd: number): void {
    const size = Buffer.byteLength(encoded) + 1;
    if (this.parts.length > 0 && (this.parts.length >= this.maxEvents || this.bytes + size > this.maxBytes)) this.cut();
    if (this.startOffset < 0) this.startOffset = lineStart;
    this.endOffset = lineEnd;
    this.parts.push(encoded);
    this.bytes += size;
  }

  /** Chunks of everything added; the builder is empty afterwards. */
  finish(): QueueChunk[] {
    if (this.parts.length) this.cut();
    return this.chunks.splice(0);
  }

  private cut(): void {
    this.chunks.push({
      output: this.output, fileKey: this.fileKey, startOffset: this.startOffset, endOffset: this.endOffset,
      eventCount: this.parts.length, bytes: this.bytes, payload: this.parts.join('\n'),
    });
    this.parts = [];
    this.bytes = 0;
    this.startOffset = -1;
  }
}
