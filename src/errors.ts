/**
 * Typed errors with stable codes. Callers and tests match on `code`, never on message text.
 * Expected outcomes (a line that does not parse, an event that fails validation) are values,
 * not exceptions: these classes are for configuration mistakes and fatal conditions.
 */
export type TailshipErrorCode =
  | 'TAILSHIP_CONFIG_INVALID'
  | 'TAILSHIP_CONFIG_ENV_MISSING'
  | 'TAILSHIP_CONFIG_NOT_FOUND'
  | 'TAILSHIP_TEMPLATE_INVALID'
  | 'TAILSHIP_EXPRESSION_INVALID'
  | 'TAILSHIP_PARSER_UNKNOWN'
  | 'TAILSHIP_PARSER_OPTIONS'
  | 'TAILSHIP_PLUGIN_INVALID'
  | 'TAILSHIP_OUTPUT_UNKNOWN'
  | 'TAILSHIP_STORE_LOCKED'
  | 'TAILSHIP_STORE_CORRUPT'
  | 'TAILSHIP_STORE_FULL'
  | 'TAILSHIP_FILE_INSECURE'
  | 'TAILSHIP_STORE_GONE'
  | 'TAILSHIP_SERVER_LISTEN'
  | 'TAILSHIP_RELOAD_REFUSED'
  | 'TAILSHIP_WORKER_FAILED'
  | 'TAILSHIP_USAGE'
  | 'TAILSHIP_OPS_UNREACHABLE'
  | 'TAILSHIP_OPS_UNAUTHORIZED'
  | 'TAILSHIP_OPS_ERROR';

export interface ErrorPlace {
  /** Config file path, when the error comes from a file. */
  file?: string;
  line?: number;
  column?: number;
  /** Dotted key path inside the config, e.g. `pipelines[0].events[1].when`. */
  path?: string;
}

export class TailshipError extends Error {
  override readonly name = 'TailshipError';
  readonly code: TailshipErrorCode;
  readonly place: ErrorPlace;

  constructor(code: TailshipErrorCode, message: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.place = place;
  }

  /** `file:line:col: path: message`, the form editors and people both read. */
  describe(): string {
    const where: string[] = [];
    if (this.place.file) {
      let loc = this.place.file;
      if (this.place.line !== undefined) loc += `:${this.place.line}`;
      if (this.place.column !== undefined) loc += `:${this.place.column}`;
      where.push(loc);
    }
    if (this.place.path) where.push(this.place.path);
    return where.length ? `${where.join(': ')}: ${this.message}` : this.message;
  }
}

/** Adds a key path prefix to an error raised while compiling a nested part of the config. */
export function withPath(err: unknown, path: string): unknown {
  if (err instanceof TailshipError && !err.place.path) {
    return new TailshipError(err.code, err.message, { ...err.place, path }, { cause: err.cause });
  }
  return err;
}
