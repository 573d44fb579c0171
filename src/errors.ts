/**
 * Typed errors with stable codes. Callers and tests match on `code`, never on message text.
 * Expected outcomes (a line that does not parse, an event that fails validation) are values,
 * not exceptions: these classes are for configuration mistakes and fatal conditions.
 */
export type TailshipErrorCode =
  | 'TAILSHIP_CONFIG_INVALID'
  | 'TAILSHIP_CONFIG_ENV_MISSING'
  | 'TAILSHIP_CONFIG_NOT_FOUND'
  | 'TAILSHIP_INPUT_UNREADABLE'
  | 'TAILSHIP_TEMPLATE_INVALID'
  | 'TAILSHIP_EXPRESSION_INVALID'
  | 'TAILSHIP_PARSER_UNKNOWN'
  | 'TAILSHIP_PARSER_OPTIONS'
  | 'TAILSHIP_PLUGIN_INVALID'
  | 'TAILSHIP_OUTPUT_UNKNOWN'
  | 'TAILSHIP_OUTPUT_FAILED'
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

/** One mistake among several found in one pass (a config with three typos shows all three). */
export interface Problem {
  readonly message: string;
  readonly place: ErrorPlace;
}

export class TailshipError extends Error {
  override readonly name = 'TailshipError';
  readonly code: TailshipErrorCode;
  readonly place: ErrorPlace;
  /** Every problem, in document order, when there are several; the first is also message/place. */
  readonly problems: readonly Problem[];

  constructor(code: TailshipErrorCode, message: string, place: ErrorPlace = {}, options?: { cause?: unknown; problems?: readonly Problem[] }) {
    super(message, options);
    this.code = code;
    this.place = place;
    this.problems = options?.problems ?? [{ message, place }];
  }

  /** Several problems as one error: the first gives the code's message and place. */
  static of(code: TailshipErrorCode, problems: readonly Problem[]): TailshipError {
    const first = problems[0]!;
    return new TailshipError(code, first.message, first.place, { problems });
  }

  /** `file:line:col: path: message` per problem, one a line: the form editors and people both read. */
  describe(): string {
    return this.problems.map((p) => describePlace(p.place, p.message)).join('\n');
  }
}

function describePlace(place: ErrorPlace, message: string): string {
  const where: string[] = [];
  if (place.file) {
    let loc = place.file;
    if (place.line !== undefined) loc += `:${place.line}`;
    if (place.column !== undefined) loc += `:${place.column}`;
    where.push(loc);
  }
  if (place.path) where.push(place.path);
  return where.length ? `${where.join(': ')}: ${message}` : message;
}

/** Adds a key path prefix to an error raised while compiling a nested part of the config. */
export function withPath(err: unknown, path: string): unknown {
  if (err instanceof TailshipError && !err.place.path && err.problems.length === 1) {
    return new TailshipError(err.code, err.message, { ...err.place, path }, { cause: err.cause });
  }
  return err;
}
