/** Durations and sizes as people write them in config ("5s", "250ms", "1m", "64KiB", "10MB"). */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3,
};

/**
 * Milliseconds from a string like "1.5s" or "250ms". A number without a unit is refused (except
 * 0): `flush_interval: 5` means 5 s to a Fluent Bit user and 5 ms to a Go one, so the config
 * must say which. Returns the milliseconds, or the reason it is not a duration.
 */
export function parseDurationMs(value: unknown): { ms: number } | { error: string } {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return { error: `expected a duration such as "500ms", "5s" or "1m", got ${JSON.stringify(value)}` };
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text);
  if (!m) return { error: `expected a duration such as "500ms", "5s" or "1m", got ${JSON.stringify(value)}` };
  if (m[2] === undefined) {
    if (Number(m[1]) === 0) return { ms: 0 };
    return { error: `a duration needs a unit: write ${m[1]}s or ${m[1]}ms (units: ms, s, m, h, d)` };
  }
  return { ms: Math.round(Number(m[1]) * DURATION_UNITS[m[2].toLowerCase()]!) };
}

/** Bytes from a number or a string like "64KiB" / "10MB"; undefined when not a size. */
export function parseSizeBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = SIZE_UNITS[unit];
  return mult === undefined ? undefined : Math.round(Number(m[1]) * mult);
}
