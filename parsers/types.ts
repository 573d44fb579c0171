/**
 * The parser contract: pure, synchronous, no I/O. A parser turns one line (already framed,
 * decoded, and joined by multiline if configured) into a record, or returns a ParseError.
 * Parsers never throw on input; they may throw TailshipError at construction for bad options.
 */
export type RecordValue = string | number | boolean | null | RecordValue[] | { [key: string]: RecordValue };
export type LogRecord = { [key: string]: RecordValue };

export interface ParseContext {
  /** Path of the file the line came from (for parsers that read metadata from it, e.g. CRI). */
  readonly file: string;
  /** Byte offset just after the line in its file. */
  readonly offset: number;
  /** The pipeline's `limits.max_fields`: parsers that would build a record first may refuse a line over it early. */
  readonly maxFields?: number;
}

export class ParseError {
  constructor(
    /** Short, specific reason: what was expected and where in the line it failed. */
    readonly reason: string,
    /** Column (1-based) in the line where parsing failed, when known. */
    readonly column?: number,
  ) {}
}

export type ParseResult = LogRecord | ParseError;

export interface Parser {
  parse(line: string, ctx: ParseContext): ParseResult;
  /**
   * Every top-level key its records can have, when the parser knows them all (a log format's
   * fields); undefined when records are open-ended (JSON). `validate` then refuses a template
   * or `when` naming a field that no record can have.
   */
  readonly fields?: readonly string[];
  /**
   * The container log format the parser reads, when its lines may be pieces of longer lines
   * (CRI, Docker json-file): the pipeline then joins them before parsing (src/source/joiners.ts).
   */
  readonly lineFormat?: LineFormat;
}

/** A piece of a line as a container runtime wrote it (a CRI `P`/`F` line, a Docker json-file object). */
export interface LinePiece {
  readonly stream: string;
  readonly time: string;
  /** The application's text in this piece. */
  readonly text: string;
  /** More pieces of the same line follow. */
  readonly partial: boolean;
  /** Metadata kept from the first piece (Docker `attrs`). */
  readonly attrs?: unknown;
}

/**
 * How a container runtime wraps and splits lines, declared by the parser that reads the format,
 * so that its grammar has one home: the partial-line joiner and multiline grouping (src/source/)
 * read and write lines of the format only through it.
 */
export interface LineFormat {
  /** The piece a line is, or undefined when it is not of the format (it passes through for the parser to report). */
  piece(line: string): LinePiece | undefined;
  /** A line that is certainly one whole piece, told without parsing it (Docker's common case). */
  plainlyWhole?(line: string): boolean;
  /** One line of the format holding the joined text of pieces; `complete` false keeps it marked partial. */
  render(first: LinePiece, text: string, complete: boolean): string;
  /** The application text of a line, for multiline rules; undefined when the line is not of the format. */
  content(line: string): string | undefined;
  /** One line of the format holding a multiline group's contents joined with "\n", with the first line's metadata. */
  renderGroup(first: string, contents: readonly string[]): string;
}

/** Options are the parser's section of the config minus `type`; `configDir` resolves relative paths. */
export interface ParserFactoryContext {
  readonly configDir: string;
  /** Builds a nested parser from a config section (for json `message_key`, container inner parsers). */
  readonly build: (section: unknown, keyPath: string) => Parser;
  /** Dotted key path of this parser's section, for error messages. */
  readonly keyPath: string;
}

export type ParserFactory = (options: Record<string, unknown>, ctx: ParserFactoryContext) => Parser;

export function isParseError(r: ParseResult): r is ParseError {
  return r instanceof ParseError;
}
