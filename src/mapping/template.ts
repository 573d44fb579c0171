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
import type { RecordValue } from '../../parsers/types.js';
import { TailshipError } from '../errors.js';
import type { Value } from './conversions.js';
import { bindFunction, FunctionError, type BoundFunction } from './functions.js';
import { compilePath, needsOwnCheck, noteFieldPath, SyntaxErrorAt, readName, readNumber, readPath, readQuoted, RESERVED, type PathKey, type Scope } from './path.js';

/** Literal argument of a filter, as written in the template. */
type FilterArg = string | number | boolean | null;

export type Render = (s: Scope) => Value;

/** A tiny recursive-descent reader for what sits between `{{` and `}}`; paths, names and strings are path.ts's grammar. */
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
    throw new SyntaxErrorAt(msg, at);
  }

  /** A filter's name. */
  name(): string {
    const start = this.i;
    this.i = readName(this.src, start, this.end, true);
    return this.src.slice(start, this.i);
  }

  describeHere(): string {
    const c = this.peek();
    return c === '' ? 'the end of the expression' : JSON.stringify(c);
  }

  literal(): FilterArg {
    const c = this.peek();
    if (c === '"' || c === "'" || c === '-' || /\d/.test(c)) {
      const r = c === '"' || c === "'" ? readQuoted(this.src, this.i, this.end) : readNumber(this.src, this.i, this.end);
      this.i = r.end;
      return r.value;
    }
    const start = this.i;
    const word = /^[A-Za-z]+/.exec(this.src.slice(this.i, this.end))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      this.i += word.length;
      return word === 'true' ? true : word === 'false' ? false : null;
    }
    return this.fail(`expected a literal (string, number, true, false or null), got ${this.describeHere()}`, start);
  }

  path(): PathKey[] {
    const r = readPath(this.src, this.i, this.end, true);
    this.i = r.end;
    return r.keys;
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
    const name = r.name();
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
      if (e instanceof FunctionError) throw new SyntaxErrorAt(e.message, nameAt);
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
      if (close < 0) throw new SyntaxErrorAt('"{{" without a matching "}}"', open);
      const expr = parseExpr(src, open + 2, close);
      if ('path' in expr.head) noteFieldPath(expr.head.path, path);
      parts.push(exprRender(expr));
      i = close + 2;
    }
  } catch (e) {
    if (e instanceof SyntaxErrorAt) {
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
