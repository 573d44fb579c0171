/**
 * Joins container runtimes' partial lines before parsing. CRI runtimes split a long line into
 * `P` (partial) pieces ended by an `F` piece; Docker's json-file driver splits at 16 KiB and marks
 * the pieces by a `log` without a trailing "\n". The format's grammar is the parser's
 * (`Parser.lineFormat`: parsers/cri.ts, parsers/docker.ts). Pieces are joined per stream (stdout
 * and stderr interleave) and rendered as ONE line of the same format (a CRI `F` line, a Docker
 * object whose `log` ends in "\n"), so the parser stays pure and sees one line.
 *
 * Limits: once a joined line reaches `maxChars` (it may pass it by one piece, which the runtime
 * bounds at 16 KiB), what was joined so far is emitted, flagged `truncated` and still marked
 * partial, and the rest of the logical line starts a new line: nothing is dropped. A line whose last
 * piece never comes is emitted, still marked partial (CRI tag `P`, Docker `log` without "\n"),
 * after `timeoutMs` without a new piece, or on flush(). Lines that are not of the format pass
 * through unchanged for the parser to report.
 */
import type { LineFormat, LinePiece } from '../../parsers/types.js';
import type { Line, LineJoiner } from './line.js';

export interface PartialJoinOptions {
  readonly format: LineFormat;
  /** Emit a line whose last piece has not come after this long without a new piece (default 5000). */
  readonly timeoutMs?: number;
  /** Emit a joined line once it holds this many characters (default 1 MiB worth). */
  readonly maxChars?: number;
}

interface Pending {
  readonly first: LinePiece;
  readonly start: number;
  end: number;
  parts: string[];
  chars: number;
  lastMs: number;
  truncated: boolean;
}

export class PartialLineJoiner implements LineJoiner {
  private readonly pending = new Map<string, Pending>();
  private readonly timeoutMs: number;
  private readonly maxChars: number;

  constructor(private readonly opts: PartialJoinOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxChars = opts.maxChars ?? 1024 * 1024;
  }

  push(line: Line, nowMs: number): Line[] {
    const format = this.opts.format;
    // Fast path: a line certainly whole (Docker's common case) needs no parsing here.
    if (this.pending.size === 0 && format.plainlyWhole?.(line.text)) return [line];
    const piece = format.piece(line.text);
    if (piece === undefined) return [line];
    const open = this.pending.get(piece.stream);
    if (open === undefined) {
      if (!piece.partial) return [line];
      this.pending.set(piece.stream, { first: piece, start: line.start, end: line.end, parts: [piece.text], chars: piece.text.length, lastMs: nowMs, truncated: line.truncated === true });
      return this.cutIfTooLong(piece.stream);
    }
    open.parts.push(piece.text);
    open.chars += piece.text.length;
    open.end = line.end;
    open.lastMs = nowMs;
    if (line.truncated) open.truncated = true;
    if (!piece.partial) {
      this.pending.delete(piece.stream);
      return [this.render(open, true)];
    }
    return this.cutIfTooLong(piece.stream);
  }

  private cutIfTooLong(stream: string): Line[] {
    const p = this.pending.get(stream);
    if (p === undefined || p.chars < this.maxChars) return [];
    this.pending.delete(stream);
    p.truncated = true;
    return [this.render(p, false)];
  }

  tick(nowMs: number): Line[] {
    const out: Line[] = [];
    for (const [stream, p] of this.pending) {
      if (nowMs - p.lastMs >= this.timeoutMs) {
        this.pending.delete(stream);
        out.push(this.render(p, false));
      }
    }
    return out.sort((a, b) => a.start - b.start);
  }

  flush(): Line[] {
    const out = [...this.pending.values()].map((p) => this.render(p, false));
    this.pending.clear();
    return out.sort((a, b) => a.start - b.start);
  }

  pendingStart(): number | undefined {
    let min: number | undefined;
    for (const p of this.pending.values()) if (min === undefined || p.start < min) min = p.start;
    return min;
  }

  /** One line of the same format holding the joined text; `complete` false keeps it marked partial. */
  private render(p: Pending, complete: boolean): Line {
    const out: Line = { text: this.opts.format.render(p.first, p.parts.join(''), complete), start: p.start, end: p.end };
    if (p.truncated) out.truncated = true;
    if (p.parts.length > 1) out.lines = p.parts.length;
    return out;
  }
}

export function createPartialJoiner(opts: PartialJoinOptions): LineJoiner {
  return new PartialLineJoiner(opts);
}
