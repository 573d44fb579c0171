/**
 * Joins container runtimes' partial lines before parsing. CRI runtimes split a long line into
 * `P` (partial) pieces ended by an `F` piece; Docker's json-file driver splits at 16 KiB and marks
 * the pieces by a `log` without a trailing "\n". Pieces are joined per stream (stdout and stderr
 * interleave) and re-rendered as ONE line of the same format (a CRI `F` line, a Docker object
 * whose `log` ends in "\n"), so the cri/docker parser stays pure and sees one line.
 *
 * Limits: once a joined line reaches `maxChars` (it may pass it by one piece, which the runtime
 * bounds at 16 KiB), what was joined so far is emitted, flagged `truncated` and still marked
 * partial, and the rest of the logical line starts a new line: nothing is dropped. A line whose last
 * piece never comes is emitted, still marked partial (CRI tag `P`, Docker `log` without "\n"),
 * after `timeoutMs` without a new piece, or on flush(). Lines that are not of the format pass
 * through unchanged for the parser to report.
 */
import type { Line, LineJoiner } from './line.js';

export interface PartialJoinOptions {
  readonly format: 'cri' | 'docker';
  /** Emit a line whose last piece has not come after this long without a new piece (default 5000). */
  readonly timeoutMs?: number;
  /** Emit a joined line once it holds this many characters (default 1 MiB worth). */
  readonly maxChars?: number;
}

interface Piece {
  readonly stream: string;
  readonly time: string;
  readonly text: string;
  readonly partial: boolean;
  /** Docker `attrs`, kept from the first piece. */
  readonly attrs?: unknown;
}

interface Pending {
  readonly stream: string;
  readonly time: string;
  readonly attrs: unknown;
  readonly start: number;
  end: number;
  parts: string[];
  chars: number;
  lastMs: number;
  truncated: boolean;
}

const CRI_HEAD = /^(\d{4}-\d{2}-\d{2}T\S+) (stdout|stderr) ([PF])(?::\S*)?(?: |$)/;

function criPiece(text: string): Piece | undefined {
  const m = CRI_HEAD.exec(text);
  if (!m) return undefined;
  return { stream: m[2] as string, time: m[1] as string, text: text.slice(m[0].length), partial: m[3] === 'P' };
}

/**
 * Docker cuts pieces at 16 KiB of log text, at most 6 characters each once escaped (\u0000):
 * a longer line is no piece, and is not parsed here, on the main thread (a hostile line of
 * 50,000 keys would grow its heap); it passes through for the parser to report.
 */
const MAX_DOCKER_PIECE_CHARS = 128 * 1024;

function dockerPiece(text: string): Piece | undefined {
  if (text.length > MAX_DOCKER_PIECE_CHARS) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { log?: unknown; stream?: unknown; time?: unknown; attrs?: unknown };
  if (typeof o.log !== 'string') return undefined;
  const stream = typeof o.stream === 'string' ? o.stream : '';
  const time = typeof o.time === 'string' ? o.time : '';
  return { stream, time, text: o.log, partial: !o.log.endsWith('\n'), attrs: o.attrs };
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
    const docker = this.opts.format === 'docker';
    // Fast path: a complete Docker line (the common case) needs no JSON.parse here.
    if (docker && this.pending.size === 0 && line.text.includes('\\n","stream":')) return [line];
    const piece = docker ? dockerPiece(line.text) : criPiece(line.text);
    if (piece === undefined) return [line];
    const open = this.pending.get(piece.stream);
    if (open === undefined) {
      if (!piece.partial) return [line];
      this.pending.set(piece.stream, { stream: piece.stream, time: piece.time, attrs: piece.attrs, start: line.start, end: line.end, parts: [piece.text], chars: piece.text.length, lastMs: nowMs, truncated: line.truncated === true });
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
    let text = p.parts.join('');
    let rendered: string;
    if (this.opts.format === 'cri') {
      rendered = `${p.time} ${p.stream} ${complete ? 'F' : 'P'} ${text}`;
    } else {
      if (!complete && text.endsWith('\n')) text = text.slice(0, -1);
      const obj: { log: string; stream: string; attrs?: unknown; time: string } = { log: text, stream: p.stream, time: p.time };
      if (p.attrs !== undefined) obj.attrs = p.attrs;
      rendered = JSON.stringify(obj);
    }
    const out: Line = { text: rendered, start: p.start, end: p.end };
    if (p.truncated) out.truncated = true;
    if (p.parts.length > 1) out.lines = p.parts.length;
    return out;
  }
}

export function createPartialJoiner(opts: PartialJoinOptions): LineJoiner {
  return new PartialLineJoiner(opts);
}
