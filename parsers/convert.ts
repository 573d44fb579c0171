/**
 * Field type conversion shared by the regex, grok, csv and logfmt parsers: `int`, `float`,
 * `bool` and `string`, named per field in the parser's `types` option.
 */
import type { ParserOptions } from './options.js';
import type { RecordValue } from './types.js';

export type FieldType = 'string' | 'int' | 'float' | 'bool';

const ALIASES: Record<string, FieldType> = {
  string: 'string',
  str: 'string',
  int: 'int',
  integer: 'int',
  long: 'int',
  float: 'float',
  number: 'float',
  double: 'float',
  bool: 'bool',
  boolean: 'bool',
};

export function fieldType(name: string): FieldType | undefined {
  return Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
}

/** Reads the `types` option: a mapping field → type name. */
export function readTypes(opts: ParserOptions, key = 'types'): Map<string, FieldType> {
  const m = opts.stringMap(key);
  const out = new Map<string, FieldType>();
  if (!m) return out;
  for (const [field, t] of Object.entries(m)) {
    const ft = fieldType(t);
    if (!ft) throw opts.error(`${key}.${field}`, `unknown type "${t}"; expected one of: int, float, bool, string`);
    out.set(field, ft);
  }
  return out;
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Converts one value; `undefined` means the value is not of that type. An integer beyond 2^53 is
 * refused rather than silently rounded (a rounded id would look real downstream).
 */
export function convert(value: string, type: FieldType): RecordValue | undefined {
  switch (type) {
    case 'string':
      return value;
    case 'int': {
      if (!INT.test(value)) return undefined;
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'float': {
      if (!FLOAT.test(value)) return undefined;
      const n = Number(value);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'bool': {
      const v = value.toLowerCase();
      if (v === 'true' || v === 'yes' || v === 'on' || v === '1') return true;
      if (v === 'false' || v === 'no' || v === 'off' || v === '0') return false;
      return undefined;
    }
  }
}

export function typeLabel(t: FieldType): string {
  return t === 'int' ? 'an integer' : t === 'float' ? 'a number' : t === 'bool' ? 'a boolean' : 'a string';
}

/**
 * Fast number-or-string for fields documented as numbers (nginx `$status`, logfmt values):
 * a decimal number becomes a number, anything else stays the string as logged.
 */
export function numberOrString(v: string): number | string {
  const len = v.length;
  if (len === 0 || len > 20) return len > 20 && FLOAT.test(v) ? Number(v) : v;
  let i = 0;
  for (; i < len; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) break;
  }
  if (i === len) return +v; // plain digits: the common case, no regex
  return FLOAT.test(v) ? Number(v) : v;
}
