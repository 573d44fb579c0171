/**
 * JSON text of single values, with a shortcut for the common case: strings that need no
 * escaping and finite numbers. Used by the message writers (message-json.ts, message-writer.ts).
 */
import type { RecordValue } from '../../parsers/types.js';

/** Strings without quotes, backslashes, control characters or surrogates need no escaping. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

export function jsonString(s: string): string {
  return PLAIN.test(s) ? '"' + s + '"' : JSON.stringify(s);
}

/** `JSON.stringify(v)` for a value that is not undefined. */
export function jsonValue(v: RecordValue): string {
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return JSON.stringify(v);
}
