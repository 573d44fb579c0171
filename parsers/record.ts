/**
 * Helpers on records and the JSON-like values inside them, shared by the parsers, the mapping
 * rules and the encoders.
 */
import type { RecordValue } from './types.js';

/** An object that is neither null nor a list (a YAML mapping, a JSON object). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Sets a field whose name comes from the data (logfmt keys, CSV headers, query parameters,
 * template keys) without letting `__proto__` change the object's prototype.
 */
export function setField(rec: { [key: string]: RecordValue }, key: string, value: RecordValue): void {
  if (key === '__proto__') Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
  else rec[key] = value;
}
