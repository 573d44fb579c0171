/**
 * Retry delays: exponential from `base`, capped at `cap`, with "equal jitter" (half fixed, half
 * random) so that many shippers do not retry in step and a delay never collapses to zero.
 * A collector's Retry-After wins over the computed delay.
 */
import type { RetryPolicy } from './destination.js';

/** Longest Retry-After we honour, so that a bogus header cannot park a batch for days. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  let ms: number;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}
