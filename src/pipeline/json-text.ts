/**
 * Templates rendered straight to JSON text. `compileJsonTemplate(src)` writes exactly what
 * `JSON.stringify(compileTemplate(src)(scope))` would, without building the objects first: the
 * mapper's direct message writers (mapping.ts, message-json.ts) use it for the events of rules
 * whose output is known to be RudderStack / Segment JSON. Same rules as template.ts: a missing
 * value leaves its key out, an object left empty by that is missing too, lists drop missing items.
 */
import type { RecordValue } from '../../parsers/types.js';
import { compileString, type Scope } from './template.js';

/** Writes the JSON of a rendered value, or undefined when the value is missing. */
export type JsonRender = (s: Scope) => string | undefined;

/** Strings without quotes, backslashes, control characters or surrogates need no escaping. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

export function jsonString(s: string): string {
  return PLAIN.test(s) ? '"' + s + '"' : JSON.stringify(s);
}

/** `JSON.stringify(v)` for a value that is not undefined, with a shortcut for the common scalars. */
export function jsonValue(v: RecordValue): string {
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return JSON.stringify(v);
}

/** Compiles any config value into a JSON writer; throws as compileTemplate does on a bad template. */
export function compileJsonTemplate(src: unknown, path: string): JsonRender {
  if (typeof src === 'string') {
    const render = compileString(src, path);
    return (s) => {
      const v = render(s);
      return v === undefined ? undefined : jsonValue(v);
    };
  }
  if (src === undefined) return () => undefined;
  if (src === null || typeof src !== 'object') {
    const text = jsonValue(src as RecordValue);
    return () => text;
  }
  if (Array.isArray(src)) {
    const items = src.map((v, i) => compileJsonTemplate(v, `${path}[${i}]`));
    return (s) => {
      let out = '';
      for (const item of items) {
        const v = item(s);
        if (v !== undefined) out += out === '' ? v : ',' + v;
      }
      return '[' + out + ']';
    };
  }
  const members = compileJsonMembers(src as { readonly [k: string]: unknown }, path);
  const empty = Object.keys(src).length === 0;
  return (s) => {
    const m = members(s);
    return m !== '' ? '{' + m + '}' : empty ? '{}' : undefined;
  };
}

/** The members of an object template, `"a":1,"b":"x"`, without braces; '' when every one is missing. */
export function compileJsonMembers(src: { readonly [k: string]: unknown }, path: string): (s: Scope) => string {
  const keys = Object.keys(src);
  const heads = keys.map((k) => JSON.stringify(k) + ':');
  const values = keys.map((k) => compileJsonTemplate(src[k], `${path}.${k}`));
  const n = keys.length;
  return (s) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      const v = (values[i] as JsonRender)(s);
      if (v !== undefined) out += (out === '' ? '' : ',') + (heads[i] as string) + v;
    }
    return out;
  };
}
