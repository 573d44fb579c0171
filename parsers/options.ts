/**
 * Reading a parser's options: each accessor validates one option and throws a TailshipError
 * (TAILSHIP_PARSER_OPTIONS) whose `place.path` names the offending key, so a bad option fails
 * at start-up with the key path rather than at the first line.
 */
import { TailshipError } from '../src/errors.js';
import { isPlainObject } from './record.js';

/** Validating reader over one parser section's options. */
export class ParserOptions {
  private readonly seen = new Set<string>();

  constructor(
    private readonly options: Record<string, unknown>,
    /** Dotted key path of the parser section, e.g. `pipelines[0].parser`. */
    readonly keyPath: string,
  ) {}

  /** An error about one option, with its key path. */
  error(key: string, message: string): TailshipError {
    return new TailshipError('TAILSHIP_PARSER_OPTIONS', message, { path: key ? `${this.keyPath}.${key}` : this.keyPath });
  }

  has(key: string): boolean {
    return this.options[key] !== undefined;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.options[key];
  }

  string(key: string): string | undefined;
  string(key: string, def: string): string;
  string(key: string, def?: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'string') throw this.error(key, `expected a string, got ${describe(v)}`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') throw this.error(key, `option "${key}" is required`);
    return v;
  }

  boolean(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') throw this.error(key, `expected true or false, got ${describe(v)}`);
    return v;
  }

  integer(key: string, def: number, min: number, max: number): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw this.error(key, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
    }
    return n;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def: T): T {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      throw this.error(key, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  stringArray(key: string): string[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
      throw this.error(key, `expected a list of strings, got ${describe(v)}`);
    }
    return v;
  }

  stringMap(key: string): Record<string, string> | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) throw this.error(key, `expected a mapping of names to strings, got ${describe(v)}`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') throw this.error(`${key}.${k}`, `expected a string, got ${describe(x)}`);
      out[k] = x;
    }
    return out;
  }

  /** Throws for any option that no accessor asked for: a typo fails at start-up. */
  rejectUnknown(): void {
    for (const k of Object.keys(this.options)) {
      if (!this.seen.has(k) && this.options[k] !== undefined) {
        const known = [...this.seen].sort().join(', ');
        throw this.error(k, `unknown option "${k}"${known ? `; expected one of: ${known}` : ''}`);
      }
    }
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  return `${typeof v} ${String(v)}`;
}
