/**
 * The stored form of a queue row's events. A row is written as ONE gzip member of its events,
 * one per line, each but the last followed by its output's separator ("," for JSON-array bodies,
 * nothing for NDJSON). Compressing on the processing threads keeps the queue small on disk
 * through a long outage; at send time the rows are decompressed off the main thread and each
 * message gets its send-time stamp (emit/send-stamp.ts, docs/decisions/0024-send-time-fields-are-stamped-into-each.md).
 * Rows written by earlier versions (TEXT, or raw deflate) still read.
 */
import { constants as zlibConstants, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';

/** Level 1: on event JSON it compresses nearly as well as 6 at several times the speed. */
const GZIP_LEVEL = 1;
/** Shared with the requests, compressed whole at send time (emit/http.ts). */
export const GZIP_OPTIONS = { level: GZIP_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

/**
 * One row being written: its events' UTF-8 straight into one buffer, each but the last followed
 * by the separator and a newline, then packed as one gzip member. Writing the bytes directly
 * measures each event's size on the way and spares joining the strings and encoding them again.
 * The buffer is reused from row to row (the processing stages keep one per output, on a worker or
 * on the main thread), unless a row grew it past `keepBytes`.
 */
export class RowBytes {
  private buf: Buffer;
  private used = 0;
  private count = 0;
  private readonly between: Buffer;

  constructor(
    separator: string,
    private readonly initialBytes = 64 * 1024,
    private readonly keepBytes = Infinity,
  ) {
    this.between = Buffer.from(separator + '\n');
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get events(): number {
    return this.count;
  }

  /** Bytes of the buffer kept for the next row. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Drops the events appended since the last pack (those of a batch that failed midway). */
  clear(): void {
    this.used = 0;
    this.count = 0;
  }

  /** Appends an event and returns its size in UTF-8 bytes. */
  append(event: string): number {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    const room = this.between.length + 3 * event.length;
    if (this.used + room > this.buf.length) this.grow(this.used + room);
    if (this.count > 0) this.used += this.between.copy(this.buf, this.used);
    const bytes = this.buf.write(event, this.used);
    this.used += bytes;
    this.count++;
    return bytes;
  }

  /** The stored form of the events appended since the last pack; the row is empty afterwards. */
  pack(): Buffer {
    const packed = gzipSync(this.buf.subarray(0, this.used), GZIP_OPTIONS);
    this.clear();
    if (this.buf.length > this.keepBytes) this.buf = Buffer.allocUnsafe(this.initialBytes);
    return packed;
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}

/** One gzip member of `events`, each but the last followed by `separator`, one per line. */
export function packEvents(events: readonly string[], separator: string): Buffer {
  const row = new RowBytes(separator, 1024);
  for (const e of events) row.append(e);
  return row.pack();
}

/** Whether a stored payload is a gzip member (the form written now), not a legacy row. */
export function isGzipPayload(stored: string | Uint8Array): stored is Uint8Array {
  return typeof stored !== 'string' && stored.length > 2 && stored[0] === 0x1f && stored[1] === 0x8b;
}

/** The events of a stored payload, without separators. */
export function unpackEvents(stored: string | Uint8Array): string[] {
  if (typeof stored === 'string') return stored.split('\n');
  // A raw deflate stream never starts with 0x1f 0x8b (its first block type would be the reserved 3).
  const text = isGzipPayload(stored) ? gunzipSync(stored).toString('utf8') : inflateRawSync(stored).toString('utf8');
  const lines = text.split('\n');
  // An encoded event never ends with "," (JSON objects end with "}"), so a trailing one is a separator.
  for (let i = 0; i < lines.length - 1; i++) {
    const l = lines[i]!;
    if (l.endsWith(',')) lines[i] = l.slice(0, -1);
  }
  return lines;
}
