/**
 * nginx access logs: `format: combined`, `format: main`, or any `log_format` string pasted from
 * an nginx config (with `escape=default|json|none`), compiled once into one RegExp. Field names
 * are the variable names without `$`; `-` (and "" under escape=json) means the key is absent.
 */
import { AccessLogParser, TRAILING_MODES, type Escaping, type FieldKind, type FieldSpec, type Token } from './access-log.js';
import { ParserOptions } from './options.js';
import type { Parser, ParserFactory } from './types.js';

export const NGINX_FORMATS: Readonly<Record<string, string>> = {
  combined: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  main: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"',
};

/** Variables logged as numbers. */
const NUMERIC = new Set([
  'status',
  'body_bytes_sent',
  'bytes_sent',
  'request_length',
  'request_time',
  'connection',
  'connection_requests',
  'msec',
  'pid',
  'content_length',
  'server_port',
  'remote_port',
  'proxy_protocol_port',
  'gzip_ratio',
  'upstream_cache_age',
]);

/** Variables with one value per upstream tried (`0.010, 0.002 : 0.001`). */
const NUMBER_LISTS = new Set([
  'upstream_response_time',
  'upstream_connect_time',
  'upstream_header_time',
  'upstream_status',
  'upstream_bytes_received',
  'upstream_bytes_sent',
  'upstream_response_length',
]);

const LIST_SHAPE = '[^ ,]*(?:(?:, | : )[^ ,]*)*';
/** Values that hold spaces even when the format does not quote them. */
const SHAPES: Record<string, string> = {
  time_local: '\\S+ [+-]\\d{4}',
  upstream_addr: LIST_SHAPE,
  upstream_cache_status: LIST_SHAPE,
};

function variableSpec(name: string): FieldSpec {
  const kind: FieldKind = name === 'request' ? 'request' : NUMERIC.has(name) ? 'number' : NUMBER_LISTS.has(name) ? 'numberList' : 'string';
  const shape = NUMBER_LISTS.has(name) ? LIST_SHAPE : SHAPES[name];
  return shape === undefined ? { name, kind } : { name, kind, shape };
}

/**
 * Accepts a bare format string or a pasted directive: optional `log_format NAME`, optional
 * `escape=…`, then one or more '…' / "…" quoted parts (concatenated) and an optional `;`.
 */
export function normalizeNginxFormat(input: string): { format: string; escape?: Escaping } {
  let s = input.trim();
  let escape: Escaping | undefined;
  const directive = /^log_format\s+\S+\s+/.exec(s);
  if (directive) s = s.slice(directive[0].length);
  const esc = /^escape=(default|json|none)\s+/.exec(s);
  if (esc) {
    escape = esc[1] === 'default' ? 'nginx' : (esc[1] as Escaping);
    s = s.slice(esc[0].length);
  }
  if (s.endsWith(';')) s = s.slice(0, -1).trimEnd();
  if (s.startsWith("'") || (directive && s.startsWith('"'))) {
    const parts: string[] = [];
    const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/y;
    let m: RegExpExecArray | null;
    let pos = 0;
    while ((m = re.exec(s)) !== null) {
      parts.push((m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1'));
      pos = re.lastIndex;
    }
    if (parts.length && s.slice(pos).trim() === '') s = parts.join('');
  }
  return escape === undefined ? { format: s } : { format: s, escape };
}

/** Splits a log_format string into literals and `$var` / `${var}` fields. */
export function tokenizeNginxFormat(format: string): Token[] {
  const tokens: Token[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(format)) !== null) {
    if (m.index > last) tokens.push({ kind: 'literal', text: format.slice(last, m.index) });
    const name = (m[1] ?? m[2]) as string;
    tokens.push({ kind: 'field', spec: variableSpec(name), label: `$${name}` });
    last = re.lastIndex;
  }
  if (last < format.length) tokens.push({ kind: 'literal', text: format.slice(last) });
  return tokens;
}

export function createNginxParser(format: string, escape: Escaping): Parser {
  return new AccessLogParser(tokenizeNginxFormat(format), escape);
}

export const nginxFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const raw = o.string('format', 'combined');
  const escOpt = o.oneOf('escape', ['default', 'json', 'none'] as const, 'default');
  const withQuery = o.boolean('parse_query', true);
  const trailing = o.oneOf('trailing', TRAILING_MODES, 'reject');
  o.rejectUnknown();
  const named = NGINX_FORMATS[raw];
  const { format, escape } = named !== undefined ? { format: named, escape: undefined } : normalizeNginxFormat(raw);
  const tokens = tokenizeNginxFormat(format);
  if (!tokens.some((t) => t.kind === 'field')) {
    throw o.error('format', `expected "combined", "main" or a log_format string with $variables, got ${JSON.stringify(raw)}`);
  }
  const escaping: Escaping = escape ?? (escOpt === 'default' ? 'nginx' : escOpt);
  return new AccessLogParser(tokens, escaping, withQuery, trailing);
};
