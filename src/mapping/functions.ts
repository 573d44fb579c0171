/**
 * The functions of the mapping language, one table for both places they are called: as a
 * template filter (`{{ x | truncate: 10 }}`, the value piped in is the first argument) and in a
 * `when` expression (`truncate(x, 10)`). A function is bound to its other arguments, then maps
 * a value (or `undefined`, a missing field) to a value or `undefined`. Functions never throw on
 * record data: a value a function cannot convert becomes missing.
 */
import { createHash } from 'node:crypto';
import type { RecordValue } from '../../parsers/types.js';
import { matchText, toBool, toFloat, toInt, toStringValue, type Value } from './conversions.js';
import { splitUrl } from './url.js';

export type BoundFunction = (v: Value) => Value;

interface FunctionSpec {
  /** Minimum and maximum number of arguments besides the value. */
  readonly args: readonly [number, number];
  /** Applied to missing values too; the others give missing for a missing value. */
  readonly seesMissing?: boolean;
  readonly bind: (args: readonly Value[]) => BoundFunction;
}

/** Thrown by `bindFunction` for an unknown name or arguments it cannot take; callers turn it into their TailshipError. */
export class FunctionError extends Error {}

const text = (v: Value): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** Hex sha256 of `salt` then the value's text (objects as JSON): the `sha256` function and the pipeline's `hash`. */
export function saltedSha256(salt: string, v: RecordValue): string {
  return createHash('sha256').update(salt).update(text(v)).digest('hex');
}

/** A test of the value's text against the argument's text (a missing side is false). */
function textTest(test: (s: string, p: string) => boolean): FunctionSpec {
  return {
    args: [1, 1],
    seesMissing: true,
    bind: ([p]) => {
      const pt = matchText(p);
      return (v) => {
        const vt = matchText(v);
        return vt !== undefined && pt !== undefined && test(vt, pt);
      };
    },
  };
}

const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['int', { args: [0, 0], bind: () => toInt }],
  ['float', { args: [0, 0], bind: () => toFloat }],
  ['bool', { args: [0, 0], bind: () => toBool }],
  ['string', { args: [0, 0], bind: () => toStringValue }],
  ['lower', { args: [0, 0], bind: () => (v) => (typeof v === 'string' ? v.toLowerCase() : v) }],
  ['upper', { args: [0, 0], bind: () => (v) => (typeof v === 'string' ? v.toUpperCase() : v) }],
  ['trim', { args: [0, 0], bind: () => (v) => (typeof v === 'string' ? v.trim() : v) }],
  [
    'len',
    {
      args: [0, 0],
      bind: () => (v) => {
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (v !== null && typeof v === 'object') return Object.keys(v).length;
        return undefined;
      },
    },
  ],
  ['starts_with', textTest((s, p) => s.startsWith(p))],
  ['ends_with', textTest((s, p) => s.endsWith(p))],
  ['contains', textTest((s, p) => s.includes(p))],
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
        const prefix = salt === undefined || salt === null ? '' : text(salt);
        return (v) => (v === undefined || v === null ? v : saltedSha256(prefix, v));
      },
    },
  ],
  ['url', { args: [0, 0], bind: () => (v) => (typeof v === 'string' && v !== '' ? splitUrl(v) : undefined) }],
  [
    'split',
    {
      args: [0, 1],
      bind: ([sep]) => {
        const s = sep === undefined || sep === null ? ',' : text(sep);
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
        const f = text(from);
        const t = text(to);
        return (v) => (typeof v === 'string' ? v.split(f).join(t) : v);
      },
    },
  ],
  [
    'join',
    {
      args: [0, 1],
      bind: ([sep]) => {
        const s = sep === undefined || sep === null ? ',' : text(sep);
        return (v) => (Array.isArray(v) ? v.map(text).join(s) : v);
      },
    },
  ],
  [
    'truncate',
    {
      args: [1, 1],
      bind: ([n]) => {
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new FunctionError('truncate needs a non-negative integer length');
        return (v) => (typeof v === 'string' && v.length > n ? v.slice(0, n) : v);
      },
    },
  ],
]);

export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys()];

/** How a caller names a function in its messages: `filter "x"` or `x()`. */
export type FunctionCallStyle = 'filter' | 'call';

/**
 * Binds function `name` to `args` (the arguments besides the value). Throws FunctionError for
 * an unknown name, a wrong argument count, or arguments the function cannot take.
 */
export function bindFunction(name: string, args: readonly Value[], style: FunctionCallStyle): BoundFunction {
  const spec = FUNCTIONS.get(name);
  if (!spec) throw new FunctionError(`unknown ${style === 'filter' ? 'filter' : 'function'} "${name}" (known: ${FUNCTION_NAMES.join(', ')})`);
  const [min, max] = spec.args;
  if (args.length < min || args.length > max) {
    // A filter's value is piped in; a call passes it as the first argument.
    const lo = style === 'filter' ? min : min + 1;
    const hi = style === 'filter' ? max : max + 1;
    const want = lo === hi ? `${lo}` : `${lo} to ${hi}`;
    const got = style === 'filter' ? args.length : args.length + 1;
    const who = style === 'filter' ? `filter "${name}"` : `${name}()`;
    throw new FunctionError(`${who} takes ${want} argument${hi === 1 ? '' : 's'}, got ${got}`);
  }
  const fn = spec.bind(args);
  if (spec.seesMissing) return fn;
  return (v) => (v === undefined ? undefined : fn(v));
}

/** The number of arguments `name` takes besides the value, or undefined for an unknown name. */
export function functionArity(name: string): readonly [number, number] | undefined {
  return FUNCTIONS.get(name)?.args;
}
