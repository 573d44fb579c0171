/**
 * The lines of one read of one file, as handed from the main thread to a processing worker:
 * their UTF-8 bytes back to back in one transferable buffer, with their ranges. Framed lines are
 * copied there without being decoded on the main thread (decoding, parsing, mapping and encoding
 * happen in the worker); lines that went through a joiner (multiline, container partial lines),
 * which the joiner had to read as text, are encoded back into it, so that every batch crosses to
 * the worker the same way.
 */
import type { Line, LineSink } from './line.js';

export interface LineBatch {
  readonly file: string;
  readonly fileKey: string;
  readonly readAtMs: number;
  /** Number of lines. */
  readonly count: number;
  /** Line i's text is bytes[spans[4i], spans[4i+1]). */
  readonly bytes: Uint8Array;
  /** Per line: text from, text to, file offset of its start, file offset after its newline. */
  readonly spans: Float64Array;
  /** Indexes of lines cut at max_line_bytes. */
  readonly truncated: number[];
  /** Per line, the lines of the file joined into it (only when some line joins several). */
  readonly joined?: number[];
}

/** Collects framed lines as bytes (a LineSink for the framer). */
export class LineBatchBuilder implements LineSink {
  /** Allocated at the first line: most turns of most files read nothing. */
  private bytes: Buffer | undefined;
  private used = 0;
  private spans = new Float64Array(0);
  private count = 0;
  private truncated: number[] = [];

  constructor(private readonly expectedBytes: number) {}

  get lines(): number {
    return this.count;
  }

  add(src: Buffer, from: number, to: number, start: number, end: number, truncated: boolean): void {
    const len = to - from;
    src.copy(this.room(len), this.used, from, to);
    this.span(len, start, end, truncated);
  }

  /** A line that is text already (out of a joiner): encoded into the batch's bytes. */
  addText(text: string, start: number, end: number, truncated: boolean): void {
    const len = this.room(Buffer.byteLength(text)).write(text, this.used);
    this.span(len, start, end, truncated);
  }

  /** The buffer, with room for `len` more bytes. */
  private room(len: number): Buffer {
    this.bytes ??= Buffer.allocUnsafeSlow(Math.max(this.expectedBytes, len, 1024));
    if (this.used + len > this.bytes.length) this.bytes = grow(this.bytes, this.used, this.used + len);
    return this.bytes;
  }

  private span(len: number, start: number, end: number, truncated: boolean): void {
    if (4 * (this.count + 1) > this.spans.length) {
      const spans = new Float64Array(Math.max(this.spans.length * 2, 4 * 1024));
      spans.set(this.spans);
      this.spans = spans;
    }
    const k = 4 * this.count;
    this.spans[k] = this.used;
    this.spans[k + 1] = this.used + len;
    this.spans[k + 2] = start;
    this.spans[k + 3] = end;
    if (truncated) this.truncated.push(this.count);
    this.used += len;
    this.count++;
  }

  /** The batch; the builder must not be used afterwards (its buffers are handed over). */
  finish(file: string, fileKey: string, readAtMs: number): LineBatch {
    return {
      file, fileKey, readAtMs, count: this.count,
      bytes: this.bytes ? new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.used) : new Uint8Array(0),
      spans: this.spans.subarray(0, 4 * this.count),
      truncated: this.truncated,
    };
  }
}

/** A batch of lines that are text already (joined groups), encoded as framed lines travel. */
export function textBatch(lines: readonly Line[], file: string, fileKey: string, readAtMs: number): LineBatch {
  let bytes = 0;
  for (const l of lines) bytes += Buffer.byteLength(l.text);
  const builder = new LineBatchBuilder(bytes);
  for (const l of lines) builder.addText(l.text, l.start, l.end, l.truncated === true);
  const batch = builder.finish(file, fileKey, readAtMs);
  return lines.some((l) => (l.lines ?? 1) > 1) ? { ...batch, joined: lines.map((l) => l.lines ?? 1) } : batch;
}

/** The buffers a batch can hand over to a worker without copying. */
export function transferables(batch: LineBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  if (batch.bytes.buffer instanceof ArrayBuffer) out.push(batch.bytes.buffer);
  if (batch.spans.buffer instanceof ArrayBuffer) out.push(batch.spans.buffer);
  return out;
}

function grow(buf: Buffer, used: number, need: number): Buffer {
  const next = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2));
  buf.copy(next, 0, 0, used);
  return next;
}
