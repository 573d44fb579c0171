/** A framed line with its byte range in its file, where framed lines go, and the contract of stateful line joiners. */
export interface Line {
  text: string;
  /** Offset of the line's first byte in its file. */
  start: number;
  /** Offset just after the line's newline: the resume point once this line is done. */
  end: number;
  /** The line was longer than max_line_bytes and was cut. */
  truncated?: boolean;
  /** Lines of the file joined into this one (multiline, container partial lines); 1 when absent. */
  lines?: number;
}

/**
 * Receives framed lines as bytes: `src[from, to)` is the line's text (no newline, no "\r"),
 * valid only during the call. The pipeline copies them into a batch for a processing worker
 * without decoding them on the main thread (line-batch.ts).
 */
export interface LineSink {
  add(src: Buffer, from: number, to: number, start: number, end: number, truncated: boolean): void;
}

/** A sink that decodes each line into a Line (joiners, `tailship parse`, tests). */
export class LineList implements LineSink {
  constructor(readonly lines: Line[] = []) {}

  add(src: Buffer, from: number, to: number, start: number, end: number, truncated: boolean): void {
    const line: Line = { text: src.toString('utf8', from, to), start, end };
    if (truncated) line.truncated = true;
    this.lines.push(line);
  }
}

/** A Line[] is taken as a LineList over it. */
export function toSink(out: LineSink | Line[]): LineSink {
  return Array.isArray(out) ? new LineList(out) : out;
}

/**
 * Joins lines into groups (multiline events, CRI/Docker partial lines). A group's `start` is its
 * first line's start and its `end` its last line's end, so that the committed offset never
 * passes a group still being built (`pendingStart`).
 */
export interface LineJoiner {
  push(line: Line, nowMs: number): Line[];
  /** Groups whose timeout has passed. */
  tick(nowMs: number): Line[];
  /** Everything held, as groups (at shutdown or end of a file). */
  flush(): Line[];
  /** Start offset of the oldest line held back, or undefined. */
  pendingStart(): number | undefined;
}
