/**
 * Template filters: the `| name: arg, arg` steps of a template expression. Each filter is bound
 * to its arguments once, at compile time, and then maps a value (or `undefined`, a missing
 * field) to a value or `undefined`. Filters never throw on record data: a value a filter cannot
 * convert becomes missing, so the key it feeds is left out of the event.
 */
import { createHash } from 'node:crypto';
import type { RecordValue } from '../../parsers/types.js';

/** A value inside the mapping stage: a record value, or `undefined` for "missing". */
export type Value = RecordValue | undefined;
export type FilterFn = (v: Value) => Value;
/** Literal argument of a filter, as written in the template. */
export type FilterArg = string | number | boolean | null;

interface FilterSpec {
  /** Minimum and maximum number of arguments. */
  readonly args: readonly [number, number];
  /** Applied to missing values too (only `default` needs this). */
  readonly seesMissing?: boolean;
  readonly bind: (args: readonly FilterArg[]) => FilterFn;
}

/** Thrown by `bindFilter` for an unknown filter or bad arguments; template.ts turns it into a TailshipError. */
export class FilterError extends Error {}

function toInt(v: Value): Value {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (!/^[-+]?\d+(\.\d*)?([eE][-+]?\d+)?$/.test(s)) return undefined;
    const n = Math.trunc(Number(s));
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function toFloat(v: Value): Value {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s === '' || s === '-') return undefined;
    const n = Number(s);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'off', '']);

function toBool(v: Value): Value {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE_WORDS.has(s)) return true;
    if (FALSE_WORDS.has(s)) return false;
  }
  return undefined;
}

/** Splits a URL (absolute, or a path such as `/a/b?x=1`) into its parts; repeated query keys become arrays. */
export function splitUrl(text: string): { [key: string]: RecordValue } | undefined {
  let u: URL;
  let relative = false;
  try {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) u = new URL(text);
    else {
      u = new URL(text, 'http://relative.invalid');
      relative = true;
    }
  } catch {
    return undefined;
  }
  const query: { [key: string]: RecordValue } = {};
  for (const [k, val] of u.searchParams) {
    const prev = Object.hasOwn(query, k) ? query[k] : undefined;
    if (prev === undefined) Object.defineProperty(query, k, { value: val, enumerable: true, writable: true, configurable: true });
    else if (Array.isArray(prev)) prev.push(val);
    else query[k] = [prev, val];
  }
  const out: { [key: string]: RecordValue } = {};
  if (!relative) {
    out.scheme = u.protocol.slice(0, -1);
    out.host = u.hostname;
    if (u.port) out.port = Number(u.port);
  }
  out.path = u.pathname;
  out.search = u.search;
  out.query = query;
  if (u.hash) out.fragment = u.hash.slice(1);
  out.url = relative ? u.pathname + u.search + u.hash : u.href;
  return out;
}

const FILTERS: ReadonlyMap<string, FilterSpec> = new Map<string, FilterSpec>([
  ['int', { args: [0, 0], bind: () => toInt }],
  ['float', { args: [0, 0], bind: () => toFloat }],
  ['bool', { args: [0, 0], bind: () => toBool }],
  ['string', { args: [0, 0], bind: () => (v) => (v === undefined ? undefined : typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)) }],
  ['lower', { args: [0, 0], bind: () => (v) => (typeof v === 'string' ? v.toLowerCase() : v) }],
  ['upper', { args: [0, 0], bind: () => (v) => (typeof v === 'string' ? v.toUpperCase() : v) }],
  ['trim', { args: [0, 0], bind: () => (v) => (typeof v === 'string' ? v.trim() : v) }],
  [
    'default',
    {
      args: [1, 1],
      seesMissing: true,
      bind: ([d]) => {
        const fallback = d ?? null;
        return (v) => (v === undefined || v === null || v === '' ? fallback : v);
      },
    },
  ],
  [
    'sha256',
    {
      args: [0, 1],
      bind: ([salt]) => {
        const prefix = salt === undefined || salt === null ? '' : String(salt);
        return (v) => {
          if (v === undefined || v === null) return v;
          const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
          return createHash('sha256').update(prefix).update(text).digest('hex');
        };
      },
    },
  ],
  ['url', { args: [0, 0], bind: () => (v) => (typeof v === 'string' && v !== '' ? splitUrl(v) : undefined) }],
  [
    'split',
    {
      args: [0, 1],
      bind: ([sep]) => {
        const s = sep === undefined || sep === null ? ',' : String(sep);
        return (v) => (typeof v === 'string' ? (v === '' ? [] : v.split(s)) : Array.isArray(v) ? v : undefined);
      },
    },
  ],
  [
    'json',
    {
      args: [0, 0],
      bind: () => (v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as RecordValue;
        } catch {
          return undefined;
        }
      },
    },
  ],
  ['to_json', { args: [0, 0], bind: () => (v) => (v === undefined ? undefined : JSON.stringify(v)) }],
  [
    'replace',
    {
      args: [2, 2],
      bind: ([from, to]) => {
        const f = String(from);
        const t = String(to);
        return (v) => (typeof v === 'string' ? v.split(f).join(t) : v);
      },
    },
  ],
  [
    'join',
    {
      args: [0, 1],
      bind: ([sep]) => {
        const s = sep === undefined || sep === null ? ',' : String(sep);
        return (v) => (Array.isArray(v) ? v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x))).join(s) : v);
      },
    },
  ],
  [
    'truncate',
    {
      args: [1, 1],
      bind: ([n]) => {
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new FilterError('truncate needs a non-negative integer length');
        return (v) => (typeof v === 'string' && v.length > n ? v.slice(0, n) : v);
      },
    },
  ],
]);

export const FILTER_NAMES: readonly string[] = [...FILTERS.keys()];

/**
 * Binds filter `name` to `args`. Throws FilterError (turned into TAILSHIP_TEMPLATE_INVALID by
 * the template compiler) for an unknown name or a wrong argument count.
 */
export function bindFilter(name: string, args: readonly FilterArg[]): FilterFn {
  const spec = FILTERS.get(name);
  if (!spec) throw new FilterError(`unknown filter "${name}" (known: ${FILTER_NAMES.join(', ')})`);
  const [min, max] = spec.args;
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new FilterError(`filter "${name}" takes ${want} argument${max === 1 ? '' : 's'}, got ${args.length}`);
  }
  const fn = spec.bind(args);
  if (spec.seesMissing) return fn;
  return (v) => (v === undefined ? undefined : fn(v));
}
