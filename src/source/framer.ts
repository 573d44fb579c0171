/**
 * Framer: cuts a file's bytes into lines and knows the byte offset after each line. Works on
 * Buffers (no string is made for bytes that are not a line yet). A trailing line without a
 * newline is held until its newline comes or `takePartial()` is called (partial_line_timeout).
 * A line longer than maxLineBytes is cut to that size and flagged; the bytes up to its newline
 * are skipped, and memory stays bounded by maxLineBytes. Invalid UTF-8 becomes U+FFFD; "\r\n"
 * endings lose the "\r".
 */
import { toSink, type Line, type LineSink } from './line.js';

export type { Line, LineSink };

const NL = 0x0a;
const CR = 0x0d;

export class Framer {
  /** Held bytes of the current unfinished line: the first `heldLen` (at most maxLineBytes). */
  private held: Buffer | undefined;
  private heldLen = 0;
  private heldStart = 0;
  /** Bytes of the current line seen so far, including skipped ones of an over-long line. */
  private lineBytes = 0;
  /** Offset just after the last byte pushed. */
  private position = 0;
  /** Lines cut to maxLineBytes so far (for metrics). */
  truncatedLines = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** Continue framing at `offset` (after a restart, truncation or seek); drops held bytes. */
  reset(offset: number): void {
    this.held = undefined;
    this.lineBytes = 0;
    this.position = offset;
  }

  /** Offset where the held (unfinished) line starts, or undefined when nothing is held. */
  pendingStart(): number | undefined {
    return this.lineBytes > 0 ? this.heldStart : undefined;
  }

  /** Frames `buf[0, len)`, read at the current position; complete lines go to `out`. */
  push(buf: Buffer, len: number, out: LineSink | Line[]): void {
    const sink = toSink(out);
    let pos = 0;
    const base = this.position;
    while (pos < len) {
      const nl = buf.indexOf(NL, pos);
      if (nl === -1 || nl >= len) {
        this.hold(buf, pos, len, base);
        break;
      }
      if (this.lineBytes === 0) {
        // Fast path: the whole line is in this buffer.
        const lineLen = nl - pos;
        if (lineLen <= this.maxLineBytes) {
          const stop = lineLen > 0 && buf[nl - 1] === CR ? nl - 1 : nl;
          sink.add(buf, pos, stop, base + pos, base + nl + 1, false);
        } else {
          this.truncatedLines++;
          sink.add(buf, pos, pos + this.maxLineBytes, base + pos, base + nl + 1, true);
        }
      } else {
        this.hold(buf, pos, nl, base);
        this.finishHeld(base + nl + 1, sink);
      }
      pos = nl + 1;
    }
    this.position = base + len;
  }

  /** Emits the held partial line as a line of its own (the writer seems done with it); false if none. */
  takePartial(out: LineSink | Line[]): boolean {
    if (this.lineBytes === 0) return false;
    this.finishHeld(this.position, toSink(out));
    return true;
  }

  private hold(buf: Buffer, from: number, to: number, base: number): void {
    if (to <= from) return;
    if (this.lineBytes === 0) {
      this.heldStart = base + from;
      this.heldLen = 0;
    }
    const room = this.maxLineBytes - this.heldLen;
    if (room > 0) {
      const take = Math.min(room, to - from);
      // Copied (the caller reuses its read buffer) into a buffer that doubles up to maxLineBytes:
      // a long line read in many pieces leaves a few buffers behind, not one per piece.
      if (!this.held || this.heldLen + take > this.held.length) {
        const next = Buffer.allocUnsafe(Math.min(this.maxLineBytes, Math.max(2 * (this.held?.length ?? 0), this.heldLen + take)));
        this.held?.copy(next, 0, 0, this.heldLen);
        this.held = next;
      }
      buf.copy(this.held, this.heldLen, from, from + take);
      this.heldLen += take;
    }
    this.lineBytes += to - from;
  }

  private finishHeld(end: number, sink: LineSink): void {
    const held = this.held ? this.held.subarray(0, this.heldLen) : Buffer.alloc(0);
    const truncated = this.lineBytes > this.maxLineBytes;
    let stop = held.length;
    if (!truncated && stop > 0 && held[stop - 1] === CR) stop--;
    if (truncated) this.truncatedLines++;
    this.held = undefined;
    this.lineBytes = 0;
    sink.add(held, 0, stop, this.heldStart, end, truncated);
  }
}
