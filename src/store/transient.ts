/**
 * Which store failures are worth waiting out: a full disk (SQLITE_FULL, or SQLITE_IOERR_* when
 * the write itself fails), a database another process holds (SQLITE_BUSY/LOCKED past
 * busy_timeout). The transaction was rolled back, so the same work can simply be tried again.
 */
const TRANSIENT = /^SQLITE_(FULL|IOERR|BUSY|LOCKED)/;

export function isTransientStoreError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT.test(code);
}

/** Wait before trying again: 1 s, doubling to 30 s. */
export function storeRetryDelayMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
}
