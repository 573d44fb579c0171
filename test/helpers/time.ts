/**
 * Time limits in tests scale with TAILSHIP_TEST_TIME_FACTOR (default 1): on a slow or busy
 * machine, `TAILSHIP_TEST_TIME_FACTOR=3 npm test` gives every wait three times as long. Waits
 * are for conditions; this only moves the point where a test gives up.
 */
export const TIME_FACTOR = Math.max(1, Number(process.env.TAILSHIP_TEST_TIME_FACTOR) || 1);

export function scaled(ms: number): number {
  return Math.round(ms * TIME_FACTOR);
}

/** Polls until `predicate` holds; throws after `timeoutMs` (scaled). */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const limit = scaled(timeoutMs);
  const deadline = Date.now() + limit;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
