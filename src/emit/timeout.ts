/**
 * An output's request timeout that follows a slow collector. A collector that takes longer than
 * `timeout` to answer would otherwise never see a request through: the same batch sent again
 * and again, each cut off just before the answer. Each timed-out request doubles the wait, up
 * to TIMEOUT_CAP_FACTOR × `timeout`; an answer well within the wait halves it again, never
 * below `timeout`.
 */
export const TIMEOUT_CAP_FACTOR = 8;

/** undici's codes for "no answer (or no end of answer) in time". */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function isRequestTimeout(err: unknown): boolean {
  return TIMEOUT_CODES.has((err as { code?: unknown } | null)?.code as string);
}

export class AdaptiveTimeout {
  private current: number;
  readonly capMs: number;

  constructor(readonly baseMs: number) {
    this.current = baseMs;
    this.capMs = baseMs * TIMEOUT_CAP_FACTOR;
  }

  /** The wait for the next request. */
  get ms(): number {
    return this.current;
  }

  /** A request timed out: the next one waits longer. Returns the new wait. */
  timedOut(): number {
    this.current = Math.min(this.capMs, this.current * 2);
    return this.current;
  }

  /** An answer came after `tookMs`. */
  answered(tookMs: number): void {
    if (tookMs < this.current / 4) this.current = Math.max(this.baseMs, this.current / 2);
  }
}
