/**
 * JSON text of single values, with a shortcut for the common case: strings that need no
 * escaping and finite numbers. Used by the message writers (message-json.ts, message-writer.ts).
 */
import type { RecordValue } from '../../../parsers/types.js';

/** Strings without quotes, backslashes, control characters or surrogates need no escaping. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

export function jsonString(s: string): string {
  return PLAIN.test(s) ? '"' + s + '"' : JSON.stringify(s);
}

/**
 * `JSON.stringify(v)` for a value that is not undefined. Numbers go through JSON.stringify too,
 * not String(n): String() keeps each new number's text in V8's number-string cache, an old-space
 * table, so the texts of a log's many distinct numbers (sizes, durations) were promoted and piled
 * up in the old generation.
 */
export function jsonValue(v: RecordValue): string {
  return typeof v === 'string' ? jsonString(v) : JSON.stringify(v);
}
