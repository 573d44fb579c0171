/** A framed line with its byte range in its file, and the contract of stateful line joiners. */
export interface Line {
  text: string;
  /** Offset of the line's first byte in its file. */
  start: number;
  /** Offset just after the line's newline: the resume point once this line is done. */
  end: number;
  /** The line was longer than max_line_bytes and was cut. */
  truncated?: boolean;
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
