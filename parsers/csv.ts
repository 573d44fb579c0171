/**
 * CSV and TSV lines with a configured header (`columns`). CSV follows RFC 4180 quoting within one
 * line (`"a ""b"""`); a field spanning lines needs multiline first. TSV has no quoting by default
 * and undoes `\t`, `\n`, `\r`, `\\` escapes. An empty unquoted field is absent; `types` converts.
 */
import { readTypes, type FieldType } from './convert.js';
import { typedValue } from './fields.js';
import { ParserOptions } from './options.js';
import { setField } from './record.js';
import { ParseError, type LogRecord, type ParseResult, type Parser, type ParserFactory } from './types.js';

export interface CsvSettings {
  readonly columns: readonly string[];
  readonly delimiter: string;
  /** Quote character, or '' for none. */
  readonly quote: string;
  readonly tsvEscapes: boolean;
  /** Accept lines with fewer or more fields than columns (extra fields are dropped). */
  readonly relaxColumnCount: boolean;
  readonly trim: boolean;
  readonly types: ReadonlyMap<string, FieldType>;
}

const TSV_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', '\\': '\\' };

export class CsvParser implements Parser {
  constructor(private readonly s: CsvSettings) {}

  /** Splits a line into fields; `null` marks an empty unquoted field. */
  split(line: string): Array<string | null> | ParseError {
    const { delimiter: d, quote: q } = this.s;
    const out: Array<string | null> = [];
    const n = line.length;
    let i = 0;
    for (;;) {
      if (q !== '' && line[i] === q) {
        const open = i;
        i++;
        let s = '';
        for (;;) {
          const j = line.indexOf(q, i);
          if (j === -1) return new ParseError(`unterminated quoted field starting at column ${open + 1}`, open + 1);
          s += line.slice(i, j);
          if (line[j + 1] === q) {
            s += q;
            i = j + 2;
            continue;
          }
          i = j + 1;
          break;
        }
        if (i < n && !line.startsWith(d, i)) return new ParseError(`expected ${JSON.stringify(d)} after a quoted field at column ${i + 1}`, i + 1);
        out.push(s);
      } else {
        let j = line.indexOf(d, i);
        if (j === -1) j = n;
        let s = line.slice(i, j);
        if (this.s.trim) s = s.trim();
        if (this.s.tsvEscapes && s.indexOf('\\') !== -1) s = s.replace(/\\([tnr\\])/g, (_m, e: string) => TSV_ESCAPES[e] ?? e);
        out.push(s === '' ? null : s);
        i = j;
      }
      if (i >= n) break;
      i += d.length;
      if (i >= n) {
        out.push(null);
        break;
      }
    }
    return out;
  }

  parse(line: string): ParseResult {
    const fields = this.split(line);
    if (fields instanceof ParseError) return fields;
    const cols = this.s.columns;
    if (fields.length !== cols.length && !this.s.relaxColumnCount) {
      return new ParseError(`expected ${cols.length} fields (${cols.join(', ')}), got ${fields.length}`);
    }
    const rec: LogRecord = {};
    const m = Math.min(fields.length, cols.length);
    for (let i = 0; i < m; i++) {
      const v = fields[i];
      if (v === null || v === undefined) continue;
      const name = cols[i] as string;
      const tv = typedValue(this.s.types, name, v);
      if (tv instanceof ParseError) return tv;
      setField(rec, name, tv);
    }
    return rec;
  }
}

function factory(kind: 'csv' | 'tsv'): ParserFactory {
  return (options, ctx) => {
    const o = new ParserOptions(options, ctx.keyPath);
    const columns = o.stringArray('columns');
    const delimiter = o.string('delimiter', kind === 'csv' ? ',' : '\t');
    const quote = o.string('quote', kind === 'csv' ? '"' : '');
    const relaxColumnCount = o.boolean('relax_column_count', false);
    const trim = o.boolean('trim', false);
    const types = readTypes(o);
    o.rejectUnknown();
    if (!columns || columns.length === 0) throw o.error('columns', 'option "columns" is required: the field names, in order');
    const dup = columns.find((c, i) => columns.indexOf(c) !== i);
    if (dup !== undefined) throw o.error('columns', `column "${dup}" appears twice`);
    if (delimiter === '') throw o.error('delimiter', 'the delimiter cannot be empty');
    if (quote.length > 1) throw o.error('quote', `expected one character or "", got ${JSON.stringify(quote)}`);
    if (quote !== '' && delimiter.includes(quote)) throw o.error('quote', 'the quote character cannot be part of the delimiter');
    for (const f of types.keys()) if (!columns.includes(f)) throw o.error(`types.${f}`, `"${f}" is not one of the columns`);
    return new CsvParser({ columns, delimiter, quote, tsvEscapes: kind === 'tsv' && quote === '', relaxColumnCount, trim, types });
  };
}

export const csvFactory = factory('csv');
export const tsvFactory = factory('tsv');
