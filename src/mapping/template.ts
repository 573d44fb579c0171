/**
 * Templates over a record: `{{ a.b }}`, `{{ a["b-c"][0] | default: "x" | lower }}`, with literal
 * text around them. A config value is compiled once into a closure that renders it per record:
 * - a string that is exactly one `{{ … }}` keeps the value's type (number, object, …);
 * - a string with text around its `{{ … }}` parts renders to a string;
 * - a missing field (or a filter that cannot convert) makes the value missing, and a missing
 *   value leaves its key out of the enclosing object (an object left empty by that is left out too);
 * - numbers, booleans and null in the config are constants; objects and arrays are rendered
 *   member by member into fresh objects (callers may mutate what they get).
 * The fields `_file`, `_offset` and `_host` come from where the line was read, not the record.
 */
import { setField } from '../../parsers/record.js';
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import { TailshipError } from '../errors.js';
import type { Value } from './conversions.js';
import { bindFunction, FunctionError, type BoundFunction } from './functions.js';

export type { Value } from './conversions.js';

/** Literal argument of a filter, as written in the template. */
type FilterArg = string | number | boolean | null;

/** What templates and `when` expressions read: the record, plus where its line came from. */
export interface Scope {
  record: LogRecord;
  file: string;
  offset: number;
  host: string;
}

export type Render = (s: Scope) => Value;
/** A path segment: a property name, or an array index. */
export type PathKey = string | number;

const RESERVED: Readonly<Record<string, (s: Scope) => Value>> = {
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
function needsOwnCheck(k: PathKey): boolean {
  return typeof k === 'string' && k in Object.prototype;
}

/**
 * Compiles a field path into a getter. The common shapes (one or two plain keys) are
 * specialised, since they are read for every record.
 */
export function compilePath(keys: readonly PathKey[]): Render {
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

/** Formats a path back to the text a user writes (`a.b["c-d"][0]`). */
export function formatPath(keys: readonly PathKey[]): string {
  let out = '';
  keys.forEach((k, i) => {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_$@][\w$@-]*$/.test(k)) out += i === 0 ? k : `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  });
  return out;
}

class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

const IDENT_START = /[A-Za-z_$@]/;
const IDENT_PART = /[\w$@-]/;

/** A tiny recursive-descent reader for what sits between `{{` and `}}`. */
class ExprReader {
  i: number;
  constructor(
    readonly src: string,
    start: number,
    readonly end: number,
  ) {
    this.i = start;
  }

  spaces(): void {
    while (this.i < this.end && /\s/.test(this.src[this.i] ?? '')) this.i++;
  }

  peek(): string {
    return this.i < this.end ? (this.src[this.i] ?? '') : '';
  }

  fail(msg: string, at = this.i): never {
    throw new TemplateSyntaxError(msg, at);
  }

  ident(): string {
    const start = this.i;
    if (!IDENT_START.test(this.peek())) this.fail(`expected a field name, got ${this.describeHere()}`);
    this.i++;
    while (IDENT_PART.test(this.peek())) this.i++;
    return this.src.slice(start, this.i);
  }

  describeHere(): string {
    const c = this.peek();
    return c === '' ? 'the end of the expression' : JSON.stringify(c);
  }

  string(): string {
    const quote = this.peek();
    const start = this.i;
    this.i++;
    let out = '';
    while (this.i < this.end) {
      const c = this.src[this.i] ?? '';
      if (c === quote) {
        this.i++;
        return out;
      }
      if (c === '\\') {
        const n = this.src[this.i + 1] ?? '';
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        this.i += 2;
        continue;
      }
      out += c;
      this.i++;
    }
    return this.fail('unterminated string', start);
  }

  number(): number {
    const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.src.slice(this.i, this.end));
    if (!m) this.fail(`expected a number, got ${this.describeHere()}`);
    this.i += m[0].length;
    return Number(m[0]);
  }

  literal(): FilterArg {
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === '-' || /\d/.test(c)) return this.number();
    const start = this.i;
    const word = /^[A-Za-z]+/.exec(this.src.slice(this.i, this.end))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      this.i += word.length;
      return word === 'true' ? true : word === 'false' ? false : null;
    }
    return this.fail(`expected a literal (string, number, true, false or null), got ${this.describeHere()}`, start);
  }

  path(): PathKey[] {
    // `$` alone is the record itself, so `$["a.b"]` reads a top-level key with odd characters.
    const first = this.ident();
    const keys: PathKey[] = first === '$' ? [] : [first];
    for (;;) {
      const c = this.peek();
      if (c === '.') {
        this.i++;
        keys.push(this.ident());
      } else if (c === '[') {
        this.i++;
        this.spaces();
        const q = this.peek();
        if (q === '"' || q === "'") keys.push(this.string());
        else {
          const n = this.number();
          if (!Number.isInteger(n) || n < 0) this.fail('an array index must be a non-negative integer');
          keys.push(n);
        }
        this.spaces();
        if (this.peek() !== ']') this.fail(`expected "]", got ${this.describeHere()}`);
        this.i++;
      } else return keys;
    }
  }
}

interface ParsedExpr {
  head: { path: PathKey[] } | { literal: FilterArg };
  filters: BoundFunction[];
}

function parseExpr(src: string, start: number, end: number): ParsedExpr {
  const r = new ExprReader(src, start, end);
  r.spaces();
  const c = r.peek();
  if (c === '') r.fail('empty expression');
  const head = c === '"' || c === "'" || c === '-' || /\d/.test(c) ? { literal: r.literal() } : { path: r.path() };
  const filters: BoundFunction[] = [];
  r.spaces();
  while (r.peek() === '|') {
    r.i++;
    r.spaces();
    const nameAt = r.i;
    const name = r.ident();
    const args: FilterArg[] = [];
    r.spaces();
    if (r.peek() === ':') {
      r.i++;
      r.spaces();
      args.push(r.literal());
      r.spaces();
      while (r.peek() === ',') {
        r.i++;
        r.spaces();
        args.push(r.literal());
        r.spaces();
      }
    }
    try {
      filters.push(bindFunction(name, args, 'filter'));
    } catch (e) {
      if (e instanceof FunctionError) throw new TemplateSyntaxError(e.message, nameAt);
      throw e;
    }
    r.spaces();
  }
  if (r.i < end) r.fail(`unexpected ${r.describeHere()}`);
  return { head, filters };
}

function exprRender(p: ParsedExpr): Render {
  const base: Render = 'path' in p.head ? compilePath(p.head.path) : constant(p.head.literal);
  const fs = p.filters;
  if (fs.length === 0) return base;
  if (fs.length === 1) {
    const f = fs[0] as BoundFunction;
    return (s) => f(base(s));
  }
  return (s) => {
    let v = base(s);
    for (const f of fs) v = f(v);
    return v;
  };
}

function constant(v: RecordValue): Render {
  if (v !== null && typeof v === 'object') return () => cloneValue(v);
  return () => v;
}

function cloneValue(v: RecordValue): RecordValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue);
  const out: { [k: string]: RecordValue } = {};
  for (const k of Object.keys(v)) setField(out, k, cloneValue(v[k] as RecordValue));
  return out;
}

/** Text of a value inside a mixed template: objects as JSON, null as "". */
function text(v: RecordValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function templateError(message: string, path: string): TailshipError {
  return new TailshipError('TAILSHIP_TEMPLATE_INVALID', message, { path });
}

/** Compiles one template string. `path` names it in errors (e.g. `pipelines[0].events[1].event`). */
export function compileString(src: string, path: string): Render {
  const parts: Array<string | Render> = [];
  let i = 0;
  try {
    while (i < src.length) {
      const open = src.indexOf('{{', i);
      if (open < 0) {
        parts.push(src.slice(i));
        break;
      }
      if (open > i) parts.push(src.slice(i, open));
      const close = findClose(src, open + 2);
      if (close < 0) throw new TemplateSyntaxError('"{{" without a matching "}}"', open);
      const expr = parseExpr(src, open + 2, close);
      if ('path' in expr.head) noteFieldPath(expr.head.path, path);
      parts.push(exprRender(expr));
      i = close + 2;
    }
  } catch (e) {
    if (e instanceof TemplateSyntaxError) {
      throw templateError(`${e.message} at column ${e.index + 1} of template ${JSON.stringify(src)}`, path);
    }
    throw e;
  }
  if (parts.length === 0) return () => '';
  const only = parts[0];
  if (parts.length === 1) return typeof only === 'string' ? () => only : (only as Render);
  // Whitespace around a single {{ }} does not turn it into a string template.
  const exprs = parts.filter((p) => typeof p !== 'string');
  if (exprs.length === 1 && parts.every((p) => typeof p !== 'string' || p.trim() === '')) return exprs[0] as Render;
  if (parts.length === 2) {
    const [a, b] = parts;
    if (typeof a === 'string' && typeof b === 'function') {
      return (s) => {
        const v = b(s);
        return v === undefined ? undefined : a + text(v);
      };
    }
    if (typeof a === 'function' && typeof b === 'string') {
      return (s) => {
        const v = a(s);
        return v === undefined ? undefined : text(v) + b;
      };
    }
  }
  return (s) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(s);
        if (v === undefined) return undefined;
        out += text(v);
      }
    }
    return out;
  };
}

/** Index of the `}}` closing an expression that starts at `from`, skipping quoted strings. */
function findClose(src: string, from: number): number {
  let quote = '';
  for (let i = from; i < src.length - 1; i++) {
    const c = src[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

/**
 * The field path of a template that is only `{{ a }}` or `{{ a.b }}` (spaces around allowed, no
 * filters), whose keys plain property reads may use: what `compilePath` reads with `record[k]`.
 * Generated writers (message-writer.ts) read such fields inline; anything else they render with
 * the compiled template.
 */
export function plainFieldPath(src: string): [string] | [string, string] | undefined {
  const t = src.trim();
  if (!t.startsWith('{{') || findClose(t, 2) !== t.length - 2) return undefined;
  let p: ParsedExpr;
  try {
    p = parseExpr(t, 2, t.length - 2);
  } catch {
    return undefined;
  }
  if (p.filters.length > 0 || !('path' in p.head)) return undefined;
  const keys = p.head.path;
  if (keys.length < 1 || keys.length > 2 || keys.some((k) => typeof k !== 'string' || needsOwnCheck(k))) return undefined;
  if (Object.hasOwn(RESERVED, keys[0] as string)) return undefined;
  return keys as [string] | [string, string];
}

/** Key paths in the form config/load.ts maps back to a YAML place: `a.b[0].c`. */
function childPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

/** Compiles an object of templates; the result renders fresh objects, leaving missing keys out. */
export function compileObject(src: { readonly [k: string]: unknown }, path: string): (s: Scope) => { [k: string]: RecordValue } | undefined {
  const keys = Object.keys(src);
  const renders: Render[] = keys.map((k) => compileTemplate(src[k], childPath(path, k)));
  const n = keys.length;
  const hasProto = keys.includes('__proto__');
  return (s) => {
    const out: { [k: string]: RecordValue } = {};
    let any = false;
    for (let i = 0; i < n; i++) {
      const v = (renders[i] as Render)(s);
      if (v !== undefined) {
        if (hasProto) setField(out, keys[i] as string, v);
        else out[keys[i] as string] = v;
        any = true;
      }
    }
    return any || n === 0 ? out : undefined;
  };
}

/**
 * Compiles any config value into a renderer. Throws TailshipError TAILSHIP_TEMPLATE_INVALID
 * (with `place.path` = `path`) for a template that does not parse or names an unknown filter.
 */
export function compileTemplate(src: unknown, path: string): Render {
  if (typeof src === 'string') return compileString(src, path);
  if (src === null || typeof src === 'number' || typeof src === 'boolean') return constant(src);
  if (src === undefined) return () => undefined;
  if (Array.isArray(src)) {
    const items = src.map((v, i) => compileTemplate(v, childPath(path, i)));
    return (s) => {
      const out: RecordValue[] = [];
      for (const r of items) {
        const v = r(s);
        if (v !== undefined) out.push(v);
      }
      return out;
    };
  }
  if (typeof src === 'object') return compileObject(src as { [k: string]: unknown }, path);
  throw templateError(`expected a string, number, boolean, null, list or map, got ${typeof src}`, path);
}
