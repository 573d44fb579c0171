/**
 * Access-log format compiler shared by the nginx and apache parsers: a format (literals and
 * fields) is compiled once into one anchored RegExp plus a table of field converters, so a line
 * costs one `exec` and a loop over the captures. Also splits `$request` / `%r` into method,
 * path, query and protocol.
 */
import { numberOrString } from './convert.js';
import { parseQuery } from './query-string.js';
import { setField } from './record.js';
import { ParseError, type LogRecord, type ParseResult, type Parser, type RecordValue } from './types.js';

/** How values are escaped inside the log: nginx `escape=default` (`\xHH`), `escape=json`, Apache (C-style), or not at all. */
export type Escaping = 'nginx' | 'json' | 'apache' | 'none';

export type FieldKind = 'string' | 'number' | 'numberList' | 'request';

export interface FieldSpec {
  /** Record key. */
  readonly name: string;
  readonly kind: FieldKind;
  /** Pattern for the value when it is not quoted and is followed by a space (values that may hold spaces, such as `$time_local`). */
  readonly shape?: string;
}

export type Token = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'field'; readonly spec: FieldSpec; readonly label: string };

const K_STRING = 0;
const K_NUMBER = 1;
const K_LIST = 2;
const K_REQUEST = 3;
const KIND_CODE: Record<FieldKind, number> = { string: K_STRING, number: K_NUMBER, numberList: K_LIST, request: K_REQUEST };

interface CompiledField {
  readonly name: string;
  readonly kind: number;
  /** The value may contain escapes that must be undone. */
  readonly unescape: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
}

function escapeClassChar(c: string): string {
  return /[\]\\^-]/.test(c) ? `\\${c}` : c;
}

/** The capture pattern for token i, chosen from its neighbours. */
function fieldPattern(tokens: readonly Token[], i: number, escaping: Escaping, trailing: Trailing): string {
  const t = tokens[i];
  if (t?.kind !== 'field') throw new Error('not a field');
  const prev = tokens[i - 1];
  const next = tokens[i + 1];
  const quoted = prev?.kind === 'literal' && prev.text.endsWith('"') && next?.kind === 'literal' && next.text.startsWith('"');
  if (quoted) {
    // nginx escapes `"` as \x22, so a quoted nginx value never holds a raw quote; JSON and
    // Apache escape it as \" (a backslash escape to skip over).
    // Unrolled `[^"\\]*(?:\\.[^"\\]*)*`: one char-class run per segment instead of one
    // alternation per character (about 2x faster on long user agents).
    return escaping === 'json' || escaping === 'apache' ? '([^"\\\\]*(?:\\\\.[^"\\\\]*)*)' : '([^"]*)';
  }
  // A last, unquoted field takes the rest of the line, unless trailing text may follow it.
  if (next === undefined) return trailing === 'reject' ? '(.*)' : t.spec.shape ? `(${t.spec.shape}|-)` : '(\\S*)';
  if (next.kind === 'field') return '(.*?)';
  const c = next.text[0] ?? '';
  if (c === ' ' && t.spec.shape) return `(${t.spec.shape}|-)`;
  return `([^${escapeClassChar(c)}]*)`;
}

function describeToken(t: Token | undefined): string {
  if (t === undefined) return 'end of line';
  return t.kind === 'literal' ? JSON.stringify(t.text) : t.label;
}

/**
 * What to do with text after the format's last field: `reject` it (a parse error), `ignore` it,
 * or `keep` it in the `trailing` field. Text is trailing only after whitespace, so a format that
 * ends mid-value still fails. Servers often log a few fields more than the format named in the
 * config (`main` is `combined` plus `"$http_x_forwarded_for"`).
 */
export type Trailing = 'reject' | 'ignore' | 'keep';
export const TRAILING_MODES = ['reject', 'ignore', 'keep'] as const;
/** The record key of kept trailing text. */
export const TRAILING_FIELD = 'trailing';

/** A compiled access-log format; `parse` is the hot path. */
/** What a `request` field adds to the record besides itself (see splitRequest). */
const REQUEST_PARTS = ['request_method', 'request_protocol', 'request_path', 'request_query'];

export class AccessLogParser implements Parser {
  readonly fields: readonly string[];
  private readonly regex: RegExp;
  private readonly compiled: CompiledField[];
  private prefixes: RegExp[] | undefined;
  private readonly build: (m: RegExpExecArray) => LogRecord;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly escaping: Escaping,
    /** Build the decoded `query` object from the request's query string (false: only `request_query`). */
    private readonly withQuery = true,
    private readonly trailing: Trailing = 'reject',
  ) {
    let src = '^';
    const fields: CompiledField[] = [];
    tokens.forEach((t, i) => {
      if (t.kind === 'literal') src += escapeRegExp(t.text);
      else {
        src += fieldPattern(tokens, i, escaping, trailing);
        fields.push({ name: t.spec.name, kind: KIND_CODE[t.spec.kind], unescape: escaping !== 'none' });
      }
    });
    if (trailing !== 'reject') src += '(?:\\s+(.*))?';
    this.regex = new RegExp(`${src}$`);
    this.compiled = fields;
    const names = fields.flatMap((f) => (f.kind === K_REQUEST ? [f.name, ...REQUEST_PARTS, ...(withQuery ? ['query'] : [])] : [f.name]));
    if (trailing === 'keep') names.push(TRAILING_FIELD);
    this.fields = [...new Set(names)];
    this.build = this.compileBuilder();
  }

  /** The compiled pattern (for tests and `tailship parse --explain`). */
  get source(): string {
    return this.regex.source;
  }

  parse(line: string): ParseResult {
    const m = this.regex.exec(line);
    if (m === null) return this.explain(line);
    return this.build(m);
  }

  /**
   * Generates the record builder for this format as straight-line code (one block per field,
   * constant keys), which V8 runs about 1.5x faster than a loop over a field table. Only the
   * format's own field names (validated identifiers-ish, quoted with JSON.stringify) go into the
   * source; no line content does.
   */
  private compileBuilder(): (m: RegExpExecArray) => LogRecord {
    const absent = this.escaping === 'json' ? 'v === undefined || v === "-" || v === ""' : 'v === undefined || v === "-"';
    let body = '"use strict";\nreturn function build(m) {\n  const rec = {};\n  let v;\n';
    this.compiled.forEach((f, i) => {
      const key = JSON.stringify(f.name);
      const store = (expr: string): string => (f.name === '__proto__' ? `setField(rec, ${key}, ${expr});` : `rec[${key}] = ${expr};`);
      body += `  v = m[${i + 1}];\n  if (!(${absent})) {\n`;
      if (f.unescape && f.kind !== K_NUMBER) body += '    if (v.indexOf("\\\\") !== -1) v = unescape(v);\n';
      if (f.kind === K_STRING) body += `    ${store('v')}\n`;
      else if (f.kind === K_NUMBER) body += `    ${store('numberOrString(v)')}\n`;
      else if (f.kind === K_LIST) body += `    setNumberList(rec, ${key}, v);\n`;
      else body += `    ${store('v')}\n    splitRequest(rec, v, ${this.withQuery ? 'true' : 'false'});\n`;
      body += '  }\n';
    });
    if (this.trailing === 'keep') {
      body += `  v = m[${this.compiled.length + 1}];\n  if (v !== undefined && v !== "") rec[${JSON.stringify(TRAILING_FIELD)}] = v;\n`;
    }
    body += '  return rec;\n};\n';
    const unescape = (v: string): string => this.unescape(v);
    const factory = new Function('unescape', 'numberOrString', 'setNumberList', 'splitRequest', 'setField', body) as (...deps: unknown[]) => (m: RegExpExecArray) => LogRecord;
    return factory(unescape, numberOrString, setNumberList, splitRequest, setField);
  }

  private unescape(v: string): string {
    switch (this.escaping) {
      case 'nginx':
        return unescapeHexBytes(v);
      case 'json':
        return unescapeJson(v);
      case 'apache':
        return unescapeC(v);
      case 'none':
        return v;
    }
  }

  /** Slow path: finds the first token the line fails to match, for a specific reason and column. */
  private explain(line: string): ParseError {
    if (!this.prefixes) {
      const ps: RegExp[] = [];
      let src = '^';
      this.tokens.forEach((t, i) => {
        src += t.kind === 'literal' ? escapeRegExp(t.text) : fieldPattern(this.tokens, i, this.escaping, this.trailing);
        ps.push(new RegExp(src));
      });
      this.prefixes = ps;
    }
    let matched = 0;
    let k = 0;
    for (; k < this.prefixes.length; k++) {
      const m = (this.prefixes[k] as RegExp).exec(line);
      if (m === null) break;
      matched = m[0].length;
    }
    if (k === this.prefixes.length) {
      return new ParseError(`unexpected text after the last field of the log format at column ${matched + 1}`, matched + 1);
    }
    const after = k > 0 ? ` after ${describeToken(this.tokens[k - 1])}` : ' at the start of the line';
    return new ParseError(`line does not match the log format: expected ${describeToken(this.tokens[k])}${after} at column ${matched + 1}`, matched + 1);
  }
}

/** `0.001, 0.002 : 0.003` (one value per upstream tried): the first as a number, all under `<name>_list`. */
function setNumberList(rec: LogRecord, name: string, v: string): void {
  if (v.indexOf(',') === -1 && v.indexOf(':') === -1) {
    rec[name] = numberOrString(v);
    return;
  }
  const parts = v.split(/\s*[,:]\s*/);
  const list: RecordValue[] = [];
  for (const p of parts) list.push(p === '-' || p === '' ? null : numberOrString(p));
  const first = list[0];
  if (first !== null && first !== undefined) rec[name] = first;
  rec[`${name}_list`] = list;
}

/**
 * `GET /a/b?x=1&y=%20 HTTP/1.1` → request_method, request_path (raw), request_query (raw) and
 * query (decoded object), request_protocol. A request without a space (garbage from a TLS client
 * on a plain port) is left unsplit.
 */
export function splitRequest(rec: LogRecord, req: string, withQuery = true): void {
  const sp1 = req.indexOf(' ');
  if (sp1 <= 0) return;
  rec.request_method = req.slice(0, sp1);
  const sp2 = req.lastIndexOf(' ');
  let target: string;
  if (sp2 > sp1 && req.startsWith('HTTP/', sp2 + 1)) {
    rec.request_protocol = req.slice(sp2 + 1);
    target = req.slice(sp1 + 1, sp2);
  } else {
    target = req.slice(sp1 + 1);
  }
  const q = target.indexOf('?');
  if (q === -1) {
    rec.request_path = target;
    return;
  }
  rec.request_path = target.slice(0, q);
  const qs = target.slice(q + 1);
  rec.request_query = qs;
  if (qs !== '' && withQuery) rec.query = parseQuery(qs);
}

const HEX_RUN = /(?:\\x[0-9A-Fa-f]{2})+/g;

/** nginx `escape=default`: runs of `\xHH` are bytes of UTF-8 text. */
export function unescapeHexBytes(v: string): string {
  if (v.indexOf('\\x') === -1) return v;
  return v.replace(HEX_RUN, (run) => Buffer.from(run.replace(/\\x/g, ''), 'hex').toString('utf8'));
}

function unescapeJson(v: string): string {
  try {
    const s: unknown = JSON.parse(`"${v}"`);
    return typeof s === 'string' ? s : v;
  } catch {
    return v;
  }
}

const C_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', v: '\v', f: '\f', '"': '"', '\\': '\\' };

/** Apache `ap_escape_logitem`: `\"`, `\\`, `\n`, `\t`… and `\xhh` bytes. */
export function unescapeC(v: string): string {
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '\\' && i + 1 < v.length) {
      const n = v[i + 1] as string;
      if (n === 'x' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 2, i + 4))) {
        bytes.push(parseInt(v.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      const e = C_ESCAPES[n];
      if (e !== undefined) {
        flush();
        out += e;
        i += 1;
        continue;
      }
    }
    flush();
    out += c;
  }
  flush();
  return out;
}
