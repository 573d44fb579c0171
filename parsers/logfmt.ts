/**
 * logfmt (`level=info msg="user logged in" dur=1.5ms ok`): a hand-written scanner. Quoted values
 * use Go escapes (`\"`, `\\`, `\n`, `\t`, `\uXXXX`) and always stay strings; with `infer_types`
 * (default true) a bare decimal number becomes a number and bare true/false a boolean. A key
 * without `=` is true. `types` forces a type per key.
 */
import { readTypes, type FieldType } from './convert.js';
import { typedValue } from './fields.js';
import { ParserOptions } from './options.js';
import { setField } from './record.js';
import { ParseError, type LogRecord, type ParseResult, type Parser, type ParserFactory, type RecordValue } from './types.js';

const DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function inferred(v: string): RecordValue {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v.length < 17 && DECIMAL.test(v)) return Number(v);
  return v;
}

const GO_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/', b: '\b', f: '\f', a: '\x07', v: '\v' };

export class LogfmtParser implements Parser {
  constructor(
    private readonly infer: boolean,
    private readonly types: ReadonlyMap<string, FieldType>,
  ) {}

  parse(line: string): ParseResult {
    const rec: LogRecord = {};
    const n = line.length;
    let i = 0;
    let pairs = 0;
    let sawEquals = false;
    while (i < n) {
      let c = line.charCodeAt(i);
      if (c <= 32) {
        i++;
        continue;
      }
      const keyStart = i;
      while (i < n && (c = line.charCodeAt(i)) > 32 && c !== 61 /* = */ && c !== 34 /* " */) i++;
      if (i === keyStart) {
        return new ParseError(c === 61 ? `expected a key before "=" at column ${i + 1}` : `expected a key, got a quote at column ${i + 1}`, i + 1);
      }
      const key = line.slice(keyStart, i);
      let value: RecordValue;
      if (i < n && line.charCodeAt(i) === 61) {
        sawEquals = true;
        i++;
        if (i < n && line.charCodeAt(i) === 34) {
          const open = i;
          i++;
          let s = '';
          let chunk = i;
          let closed = false;
          while (i < n) {
            const d = line.charCodeAt(i);
            if (d === 34) {
              s += line.slice(chunk, i);
              i++;
              closed = true;
              break;
            }
            if (d === 92 /* \ */ && i + 1 < n) {
              s += line.slice(chunk, i);
              const e = line[i + 1] as string;
              if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(line.slice(i + 2, i + 6))) {
                s += String.fromCharCode(parseInt(line.slice(i + 2, i + 6), 16));
                i += 6;
              } else {
                s += GO_ESCAPES[e] ?? e;
                i += 2;
              }
              chunk = i;
              continue;
            }
            i++;
          }
          if (!closed) return new ParseError(`unterminated quoted value for key "${key}" starting at column ${open + 1}`, open + 1);
          if (i < n && line.charCodeAt(i) > 32) return new ParseError(`expected a space after the quoted value of "${key}" at column ${i + 1}`, i + 1);
          value = s;
          const tv = this.types.size ? typedValue(this.types, key, s) : s;
          if (tv instanceof ParseError) return tv;
          value = tv;
        } else {
          const vs = i;
          while (i < n && line.charCodeAt(i) > 32) i++;
          const raw = line.slice(vs, i);
          if (this.types.has(key)) {
            const tv = typedValue(this.types, key, raw);
            if (tv instanceof ParseError) return tv;
            value = tv;
          } else value = this.infer ? inferred(raw) : raw;
        }
      } else {
        if (i < n && line.charCodeAt(i) === 34) return new ParseError(`unexpected quote after key "${key}" at column ${i + 1}`, i + 1);
        value = true;
      }
      setField(rec, key, value);
      pairs++;
    }
    if (!sawEquals) return new ParseError(pairs === 0 ? 'expected key=value pairs, got an empty line' : 'expected key=value pairs, found no "="');
    return rec;
  }
}

export const logfmtFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const infer = o.boolean('infer_types', true);
  const types = readTypes(o);
  o.rejectUnknown();
  return new LogfmtParser(infer, types);
};
