/**
 * Value conversions, the one home of what "a number", "an integer", "a boolean" and "a string"
 * mean for a record value. The template filters (`{{ x | int }}`) and the `when` functions
 * (`int(x)`) are both the entries of functions.ts, which call these, so the two always agree.
 * A value that cannot be converted gives `undefined` (missing), never an error.
 */
import type { RecordValue } from '../../parsers/types.js';

/** A value inside the mapping stage: a record value, or `undefined` for "missing". */
export type Value = RecordValue | undefined;

/** A decimal number as text: digits, an optional fraction and exponent (no hex, no `Infinity`). */
const DECIMAL = /^[-+]?\d+(\.\d*)?([eE][-+]?\d+)?$/;

/**
 * The number a value reads as, for comparisons and arithmetic in `when`: numbers as they are,
 * strings that are not blank through `Number` (so `" 42 "` and `"1e3"` are numbers). Booleans
 * are not numbers here: `flag > 0` is false for `flag: true`.
 */
export function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/** `int`: numbers truncated, decimal strings (`"42.9"` → 42), booleans as 1 / 0; anything else missing. */
export function toInt(v: Value): Value {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (!DECIMAL.test(s)) return undefined;
    const n = Math.trunc(Number(s));
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** `float`: finite numbers, strings that read as finite numbers, booleans as 1 / 0; anything else missing. */
export function toFloat(v: Value): Value {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = numeric(v);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off', '']);

/** `bool`: booleans, numbers (non-zero is true), the words of TRUE_WORDS / FALSE_WORDS in any case. */
export function toBool(v: Value): Value {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE_WORDS.has(s)) return true;
    if (FALSE_WORDS.has(s)) return false;
  }
  return undefined;
}

/** `string`: strings as they are, objects and lists as JSON, other values as their text. */
export function toStringValue(v: Value): Value {
  if (v === undefined || typeof v === 'string') return v;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** An id field (`userId`, `groupId`, …): ids are strings on the wire, so numbers and booleans become text; empty strings and null are missing. */
export function toEventId(v: Value): Value {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return undefined;
  return v; // an object or list: left for validation to refuse, naming the field
}

/** `event`, `name`, `category`: numbers and booleans become text; null is missing. */
export function toEventText(v: Value): Value {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return v === null ? undefined : v;
}

/** The text a value is matched on (`=~`, starts_with, …): strings, and numbers and booleans as text. */
export function matchText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
