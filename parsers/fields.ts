/**
 * Typed captured fields, shared by the regex, grok and csv parsers: converts each captured string
 * by the `types` option and reports the first value that is not of its declared type.
 */
import { convert, typeLabel, type FieldType } from './convert.js';
import { isPlainObject, setField } from './record.js';
import { ParseError, type LogRecord, type RecordValue } from './types.js';

/** Converts `value` for `name`; returns a ParseError naming the field when it does not convert. */
export function typedValue(types: ReadonlyMap<string, FieldType>, name: string, value: string): RecordValue | ParseError {
  const t = types.get(name);
  if (t === undefined || t === 'string') return value;
  const v = convert(value, t);
  if (v === undefined) return new ParseError(`field "${name}": expected ${typeLabel(t)}, got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`);
  return v;
}

/** Sets a possibly nested field (`[a][b]` → rec.a.b); a second value for the same field makes a list. */
export function addField(rec: LogRecord, path: readonly string[], value: RecordValue): void {
  let obj: LogRecord = rec;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string;
    const cur = obj[k];
    if (isPlainObject(cur)) obj = cur;
    else {
      const next: LogRecord = {};
      setField(obj, k, next);
      obj = next;
    }
  }
  const last = path[path.length - 1] as string;
  if (Object.hasOwn(obj, last)) {
    const prev = obj[last] as RecordValue;
    if (Array.isArray(prev)) prev.push(value);
    else setField(obj, last, [prev, value]);
  } else setField(obj, last, value);
}
