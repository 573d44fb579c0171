/**
 * Apache httpd access logs: `format: common | combined | vhost_combined | combinedio`, or any
 * `LogFormat` string (a pasted `LogFormat "…" nick` line works too). Compiled once into one RegExp
 * by the shared access-log compiler. Field names follow the nginx names where the meaning is the
 * same (remote_addr, status, body_bytes_sent, http_user_agent…); see docs/parsers.md.
 */
import { AccessLogParser, TRAILING_MODES, type FieldKind, type FieldSpec, type Token } from './access-log.js';
import { ParserOptions } from './options.js';
import type { ParserFactory } from './types.js';

export const APACHE_FORMATS: Readonly<Record<string, string>> = {
  common: '%h %l %u %t "%r" %>s %b',
  combined: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
  vhost_combined: '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
  combinedio: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O',
};

const SIMPLE: Record<string, [string, FieldKind]> = {
  a: ['remote_addr', 'string'],
  A: ['local_addr', 'string'],
  B: ['body_bytes_sent', 'number'],
  b: ['body_bytes_sent', 'number'],
  D: ['request_time_us', 'number'],
  f: ['filename', 'string'],
  h: ['remote_host', 'string'],
  H: ['request_protocol', 'string'],
  I: ['bytes_received', 'number'],
  k: ['keepalive_requests', 'number'],
  l: ['remote_logname', 'string'],
  L: ['log_id', 'string'],
  m: ['request_method', 'string'],
  O: ['bytes_sent', 'number'],
  p: ['server_port', 'number'],
  P: ['pid', 'number'],
  q: ['query_string', 'string'],
  r: ['request', 'request'],
  R: ['handler', 'string'],
  s: ['status', 'number'],
  S: ['bytes_transferred', 'number'],
  T: ['request_time_s', 'number'],
  u: ['remote_user', 'string'],
  U: ['request_path', 'string'],
  v: ['server_name', 'string'],
  V: ['server_name', 'string'],
  X: ['connection_status', 'string'],
};

const HEADER_PREFIX: Record<string, string> = { i: 'http_', o: 'sent_http_', C: 'cookie_', e: 'env_', n: 'note_' };

function snake(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

/** One `%…` directive → field spec; `undefined` if unknown. */
function directiveSpec(letter: string, arg: string | undefined): FieldSpec | undefined {
  const prefix = HEADER_PREFIX[letter];
  if (prefix !== undefined) return arg ? { name: prefix + snake(arg), kind: 'string' } : undefined;
  if (arg !== undefined) {
    if (letter === 'a' && arg === 'c') return { name: 'peer_addr', kind: 'string' };
    if (letter === 'p') return { name: arg === 'remote' ? 'remote_port' : 'server_port', kind: 'number' };
    if (letter === 'P') return { name: arg === 'pid' ? 'pid' : 'tid', kind: arg === 'hextid' ? 'string' : 'number' };
    if (letter === 'T') return { name: arg === 'ms' ? 'request_time_ms' : arg === 'us' ? 'request_time_us' : 'request_time_s', kind: 'number' };
    if (letter === 't') return { name: 'time', kind: 'string' };
  }
  const s = SIMPLE[letter];
  return s ? { name: s[0], kind: s[1] } : undefined;
}

/** Strips `LogFormat "…" nickname` down to the format string, undoing `\"`. */
export function normalizeApacheFormat(input: string): string {
  let s = input.trim();
  const directive = /^LogFormat\s+/i.exec(s);
  if (directive) s = s.slice(directive[0].length);
  const quoted = /^"((?:[^"\\]|\\.)*)"(?:\s+\S+)?\s*$/.exec(s);
  if (quoted) s = quoted[1] as string;
  return s.replace(/\\(["\\])/g, '$1').replace(/\\t/g, '\t');
}

/** Splits a LogFormat string into literals and fields; throws a message with the column on an unknown directive. */
export function tokenizeApacheFormat(format: string): Token[] {
  const tokens: Token[] = [];
  let lit = '';
  const pushLit = (): void => {
    if (lit) tokens.push({ kind: 'literal', text: lit });
    lit = '';
  };
  const re = /%([<>!\d,]*)(?:\{([^}]*)\})?([<>!\d,]*)(\^t[io]|[a-zA-Z%])/y;
  for (let i = 0; i < format.length; ) {
    if (format[i] !== '%') {
      lit += format[i];
      i++;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(format);
    if (!m) throw new Error(`incomplete "%" directive at column ${i + 1}`);
    const letter = m[4] as string;
    i = re.lastIndex;
    if (letter === '%') {
      lit += '%';
      continue;
    }
    if (letter === 't' && m[2] === undefined) {
      lit += '[';
      pushLit();
      tokens.push({ kind: 'field', spec: { name: 'time', kind: 'string' }, label: '%t' });
      lit = ']';
      continue;
    }
    const spec = directiveSpec(letter, m[2]);
    if (!spec) throw new Error(`unknown directive "${m[0]}" at column ${m.index + 1}`);
    pushLit();
    tokens.push({ kind: 'field', spec, label: m[0] });
  }
  pushLit();
  return tokens;
}

export const apacheFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const raw = o.string('format', 'combined');
  const withQuery = o.boolean('parse_query', true);
  const trailing = o.oneOf('trailing', TRAILING_MODES, 'reject');
  o.rejectUnknown();
  const format = APACHE_FORMATS[raw] ?? normalizeApacheFormat(raw);
  let tokens: Token[];
  try {
    tokens = tokenizeApacheFormat(format);
  } catch (err) {
    throw o.error('format', err instanceof Error ? err.message : String(err));
  }
  if (!tokens.some((t) => t.kind === 'field')) {
    throw o.error('format', `expected "common", "combined", "vhost_combined", "combinedio" or a LogFormat string with % directives, got ${JSON.stringify(raw)}`);
  }
  return new AccessLogParser(tokens, 'apache', withQuery, trailing);
};
