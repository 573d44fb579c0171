/**
 * Framer: cuts a file's bytes into lines and knows the byte offset after each line. Works on
 * Buffers (no string is made for bytes that are not a line yet). A trailing line without a
 * newline is held until its newline comes or `takePartial()` is called (partial_line_timeout).
 * A line longer than maxLineBytes is cut to that size and flagged; the bytes up to its newline
 * are skipped, and memory stays bounded by maxLineBytes. Invalid UTF-8 becomes U+FFFD; "\r\n"
 * endings lose the "\r".
 */
import type { Line } from './line.js';

export type { Line };

const NL = 0x0a;
const CR = 0x0d;

export class Framer {
  /** Held bytes of the current unfinished line (at most maxLineBytes). */
  private held: Buffer | undefined;
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

  /** Frames `buf[0, len)`, read at the current position; complete lines are appended to `out`. */
  push(buf: Buffer, len: number, out: Line[]): void {
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
          out.push({ text: buf.toString('utf8', pos, stop), start: base + pos, end: base + nl + 1 });
        } else {
          this.truncatedLines++;
          out.push({ text: buf.toString('utf8', pos, pos + this.maxLineBytes), start: base + pos, end: base + nl + 1, truncated: true });
        }
      } else {
        this.hold(buf, pos, nl, base);
        out.push(this.finishHeld(base + nl + 1));
      }
      pos = nl + 1;
    }
    this.position = base + len;
  }

  /** Emits the held partial line as a line of its own (the writer seems done with it). */
  takePartial(): Line | undefined {
    if (this.lineBytes === 0) return undefined;
    return this.finishHeld(this.position);
  }

  private hold(buf: Buffer, from: number, to: number, base: number): void {
    if (to <= from) return;
    if (this.lineBytes === 0) this.heldStart = base + from;
    const room = this.maxLineBytes - (this.held?.length ?? 0);
    if (room > 0) {
      const take = Math.min(room, to - from);
      const part = buf.subarray(from, from + take);
      // Copy: the caller reuses its read buffer.
      this.held = this.held ? Buffer.concat([this.held, part]) : Buffer.from(part);
    }
    this.lineBytes += to - from;
  }

  private finishHeld(end: number): Line {
    const held = this.held ?? Buffer.alloc(0);
    const truncated = this.lineBytes > this.maxLineBytes;
    let stop = held.length;
    if (!truncated && stop > 0 && held[stop - 1] === CR) stop--;
    const line: Line = { text: held.toString('utf8', 0, stop), start: this.heldStart, end };
    if (truncated) {
      line.truncated = true;
      this.truncatedLines++;
    }
    this.held = undefined;
    this.lineBytes = 0;
    return line;
  }
}
