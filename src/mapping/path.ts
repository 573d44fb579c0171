/**
 * Field paths, the one grammar templates and `when` expressions share: a name, then `.name`,
 * `["key"]`, `['key']` or `[n]` steps (`query.uid`, `headers["x-env"]`, `items[0].sku`), where
 * `$` alone is the record itself (`$["a.b"]`) and `_file`, `_offset`, `_host` name where the line
 * was read. Names are letters (any script), digits, `_`, `$` and `@`, not starting with a digit;
 * in templates also `-` (`utm-source`), which in `when` is subtraction. Here too: compiling a
 * path into a getter, and reporting the paths a config reads.
 */
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import type { Value } from './conversions.js';

/** A path segment: a property name, or an array index. */
export type PathKey = string | number;

/** What templates and `when` expressions read: the record, plus where its line came from. */
export interface Scope {
  record: LogRecord;
  file: string;
  offset: number;
  host: string;
}

export const RESERVED: Readonly<Record<string, (s: Scope) => Value>> = {
  _file: (s) => s.file,
  _offset: (s) => s.offset,
  _host: (s) => s.host,
};

type Container = RecordValue | undefined;

/** Names a template or `when` may read besides the record's fields. */
export const RESERVED_NAMES: readonly string[] = Object.keys(RESERVED);

/** While set, each field path a template or expression reads is reported with its config key path. */
let fieldPathListener: ((keys: readonly PathKey[], where: string) => void) | undefined;

/**
 * Runs `compile` and reports every field path the templates and expressions it compiles read
 * (`validate` checks them against the fields the parser can produce).
 */
export function listenToFieldPaths<T>(listener: (keys: readonly PathKey[], where: string) => void, compile: () => T): T {
  const previous = fieldPathListener;
  fieldPathListener = listener;
  try {
    return compile();
  } finally {
    fieldPathListener = previous;
  }
}

export function noteFieldPath(keys: readonly PathKey[], where: string): void {
  fieldPathListener?.(keys, where);
}

/** Reads one key of a value; own properties only (a field named `constructor` is not Object's). */
function stepSafe(v: Container, k: PathKey): Value {
  if (v === null || typeof v !== 'object') return undefined;
  if (typeof k === 'number') return Array.isArray(v) ? v[k] : undefined;
  if (Array.isArray(v)) return undefined;
  return Object.hasOwn(v, k) ? v[k] : undefined;
}

/** True when plain property access could reach Object.prototype for this key. */
export function needsOwnCheck(k: PathKey): boolean {
  return typeof k === 'string' && k in Object.prototype;
}

/**
 * Compiles a field path into a getter. The common shapes (one or two plain keys) are
 * specialised, since they are read for every record.
 */
export function compilePath(keys: readonly PathKey[]): (s: Scope) => Value {
  const first = keys[0];
  if (first === undefined) return (s) => s.record;
  const reserved = typeof first === 'string' && Object.hasOwn(RESERVED, first) ? RESERVED[first] : undefined;
  const rest = keys.slice(1);
  const safe = keys.some(needsOwnCheck) || keys.some((k) => typeof k === 'number');
  if (reserved) {
    if (rest.length === 0) return reserved;
    return (s) => {
      let v: Value = reserved(s);
      for (const k of rest) v = stepSafe(v, k);
      return v;
    };
  }
  if (safe) {
    return (s) => {
      let v: Value = s.record;
      for (const k of keys) v = stepSafe(v, k);
      return v;
    };
  }
  const k0 = first as string;
  if (rest.length === 0) return (s) => s.record[k0];
  if (rest.length === 1) {
    const k1 = rest[0] as string;
    return (s) => {
      const v = s.record[k0];
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? v[k1] : undefined;
    };
  }
  return (s) => {
    let v: Value = s.record[k0];
    for (const k of rest) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
      v = v[k as string];
    }
    return v;
  };
}

/** Text that does not parse (a path here, or a template around it): the message, and the index where it went wrong. */
export class SyntaxErrorAt extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/** Whether a name may start with `c` (one character). */
export function isNameStart(c: string): boolean {
  return /^[A-Za-z_$@]$/.test(c) || (c !== '' && c.charCodeAt(0) >= 128);
}

function isNamePart(c: string, dashes: boolean): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9') || (dashes && c === '-');
}

function describe(src: string, i: number, end: number): string {
  return i < end ? JSON.stringify(src[i]) : 'the end of the expression';
}

/** Index just past the name at `i`; throws when there is none. */
export function readName(src: string, i: number, end: number, dashes: boolean): number {
  if (i >= end || !isNameStart(src[i] ?? '')) throw new SyntaxErrorAt(`expected a field name, got ${describe(src, i, end)}`, i);
  let j = i + 1;
  while (j < end && isNamePart(src[j] ?? '', dashes)) j++;
  return j;
}

/** The quoted string at `i` (either quote; `\n`, `\t`, and `\` before any other character keeps it). */
export function readQuoted(src: string, i: number, end: number): { value: string; end: number } {
  const quote = src[i];
  let out = '';
  for (let j = i + 1; j < end; j++) {
    const c = src[j] ?? '';
    if (c === quote) return { value: out, end: j + 1 };
    if (c === '\\') {
      const n = src[++j] ?? '';
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else out += c;
  }
  throw new SyntaxErrorAt('unterminated string', i);
}

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/;

/** The number at `i` (`42`, `-1.5`, `1e3`); throws when there is none. */
export function readNumber(src: string, i: number, end: number): { value: number; end: number } {
  const m = NUMBER.exec(src.slice(i, end));
  if (!m) throw new SyntaxErrorAt(`expected a number, got ${describe(src, i, end)}`, i);
  return { value: Number(m[0]), end: i + m[0].length };
}

/**
 * Reads the field path at `start` (no spaces before a step; spaces inside brackets are fine).
 * `dashes`: whether `-` may be part of a name. Throws SyntaxErrorAt.
 */
export function readPath(src: string, start: number, end: number, dashes: boolean): { keys: PathKey[]; end: number } {
  let i = readName(src, start, end, dashes);
  const first = src.slice(start, i);
  const keys: PathKey[] = first === '$' ? [] : [first];
  const spaces = (): void => {
    while (i < end && /\s/.test(src[i] ?? '')) i++;
  };
  for (;;) {
    const c = i < end ? src[i] : '';
    if (c === '.') {
      const at = i + 1;
      i = readName(src, at, end, dashes);
      keys.push(src.slice(at, i));
    } else if (c === '[') {
      const open = i;
      i++;
      spaces();
      const q = src[i];
      if (q === '"' || q === "'") {
        const r = readQuoted(src, i, end);
        keys.push(r.value);
        i = r.end;
      } else {
        let n: { value: number; end: number };
        try {
          n = readNumber(src, i, end);
        } catch (e) {
          if (e instanceof SyntaxErrorAt) throw new SyntaxErrorAt(`a [key] in a field path is a "string" or an index: ${e.message}`, e.index);
          throw e;
        }
        if (!Number.isInteger(n.value) || n.value < 0) throw new SyntaxErrorAt('a [key] in a field path that is a number must be a non-negative integer (an array index)', open);
        keys.push(n.value);
        i = n.end;
      }
      spaces();
      if (src[i] !== ']' || i >= end) throw new SyntaxErrorAt(`expected "]", got ${describe(src, i, end)}`, i);
      i++;
    } else return { keys, end: i };
  }
}
