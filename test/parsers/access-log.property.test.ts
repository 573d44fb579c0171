/**
 * Round-trip properties for the nginx and apache parsers: random records are rendered through
 * the format string with the server's own escaping, and parsing the line gives the record back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import { build, ctx, ok } from './helpers.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const timeLocal = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map(
  (d) => `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] as string}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`,
);
/** Free text: any Unicode, including quotes, backslashes and control characters. Never "-" (absent) or "". */
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s !== '-');
const token = fc.stringMatching(/^[A-Za-z0-9._@]{1,16}$/);
const optional = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

interface Request {
  method: string;
  path: string;
  pairs: Array<[string, string]>;
  protocol: string;
}

const request: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
  path: fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => `/${s.replace(/[?\s]/g, '_')}`),
  pairs: fc.array(fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 12 })), { maxLength: 4 }),
  protocol: fc.constantFrom('HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0'),
});

function renderRequest(r: Request): string {
  const qs = r.pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `${r.method} ${r.path}${r.pairs.length ? `?${qs}` : ''} ${r.protocol}`;
}

/** What the parser should make of a request: the decoded query with repeated keys as lists. */
function expectedRequest(r: Request): LogRecord {
  const raw = renderRequest(r);
  const out: LogRecord = { request: raw, request_method: r.method, request_path: r.path, request_protocol: r.protocol };
  if (r.pairs.length) {
    out.request_query = raw.slice(raw.indexOf('?') + 1, raw.lastIndexOf(' '));
    const q: { [k: string]: RecordValue } = {};
    for (const [k, v] of r.pairs) {
      const prev = Object.hasOwn(q, k) ? q[k] : undefined;
      const next = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      Object.defineProperty(q, k, { value: next, enumerable: true, writable: true, configurable: true });
    }
    out.query = q;
  }
  return out;
}

/** nginx escape=default: `"`, `\`, control characters and every byte >= 0x7f as \xHH. */
function nginxEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\' || c < 0x20 || c >= 0x7f) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += ch;
  }
  return out;
}

/** Apache ap_escape_logitem: `\"`, `\\`, C escapes, and other non-printable bytes as \xhh. */
function apacheEscape(s: string): string {
  const named: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\v': '\\v', '\f': '\\f' };
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    const n = named[ch];
    if (n !== undefined) out += n;
    else if (c < 0x20 || c >= 0x7f) for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

const dash = (v: string | undefined, esc: (s: string) => string): string => (v === undefined ? '-' : esc(v));

describe('nginx round trip', () => {
  const format = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time urt="$upstream_response_time" $host';
  const p = build({ type: 'nginx', format });

  it('parses back what nginx would log (escape=default)', () => {
    fc.assert(
      fc.property(
        fc.record({
          addr: fc.oneof(fc.ipV4(), fc.ipV6()),
          user: optional(token),
          time: timeLocal,
          req: request,
          status: fc.integer({ min: 100, max: 599 }),
          bytes: fc.nat({ max: 1e9 }),
          referer: optional(text),
          agent: optional(text),
          rt: fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000),
          urt: optional(fc.array(fc.integer({ min: 0, max: 60_000 }).map((n) => n / 1000), { minLength: 1, maxLength: 3 })),
          host: token,
        }),
        (r) => {
          const line = `${r.addr} - ${dash(r.user, nginxEscape)} [${r.time}] "${nginxEscape(renderRequest(r.req))}" ${r.status} ${r.bytes} "${dash(r.referer, nginxEscape)}" "${dash(r.agent, nginxEscape)}" rt=${r.rt.toFixed(3)} urt="${r.urt ? r.urt.map((n) => n.toFixed(3)).join(', ') : '-'}" ${r.host}`;
          const expected: LogRecord = { remote_addr: r.addr, time_local: r.time, ...expectedRequest(r.req), status: r.status, body_bytes_sent: r.bytes, request_time: r.rt, host: r.host };
          if (r.user !== undefined) expected.remote_user = r.user;
          if (r.referer !== undefined) expected.http_referer = r.referer;
          if (r.agent !== undefined) expected.http_user_agent = r.agent;
          if (r.urt) {
            expected.upstream_response_time = r.urt[0] as number;
            if (r.urt.length > 1) expected.upstream_response_time_list = r.urt;
          }
          expect(ok(p.parse(line, ctx))).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('parses back escape=json lines', () => {
    const j = build({ type: 'nginx', format: `escape=json '{"ip":"$remote_addr","req":"$request","status":$status,"ua":"$http_user_agent","rid":"$request_id"}'` });
    fc.assert(
      fc.property(fc.record({ addr: fc.ipV4(), req: request, status: fc.integer({ min: 100, max: 599 }), agent: optional(text), rid: optional(text) }), (r) => {
        const js = (v: string | undefined): string => (v === undefined ? '' : JSON.stringify(v).slice(1, -1));
        const line = `{"ip":"${r.addr}","req":"${js(renderRequest(r.req))}","status":${r.status},"ua":"${js(r.agent)}","rid":"${js(r.rid)}"}`;
        const expected: LogRecord = { remote_addr: r.addr, ...expectedRequest(r.req), status: r.status };
        if (r.agent !== undefined) expected.http_user_agent = r.agent;
        if (r.rid !== undefined) expected.request_id = r.rid;
        expect(ok(j.parse(line, ctx))).toEqual(expected);
        // and the line is the JSON nginx promised
        expect(() => JSON.parse(line)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe('apache round trip', () => {
  const p = build({ type: 'apache', format: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D' });

  it('parses back what httpd would log', () => {
    fc.assert(
      fc.property(
        fc.record({
          host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
          user: optional(token),
          time: timeLocal,
          req: request,
          status: fc.integer({ min: 100, max: 599 }),
          bytes: optional(fc.integer({ min: 1, max: 1e9 })),
          referer: optional(text),
          agent: optional(text),
          us: fc.nat({ max: 1e9 }),
        }),
        (r) => {
          const line = `${r.host} - ${dash(r.user, apacheEscape)} [${r.time}] "${apacheEscape(renderRequest(r.req))}" ${r.status} ${r.bytes ?? '-'} "${dash(r.referer, apacheEscape)}" "${dash(r.agent, apacheEscape)}" ${r.us}`;
          const expected: LogRecord = { remote_host: r.host, time: r.time, ...expectedRequest(r.req), status: r.status, request_time_us: r.us };
          if (r.user !== undefined) expected.remote_user = r.user;
          if (r.bytes !== undefined) expected.body_bytes_sent = r.bytes;
          if (r.referer !== undefined) expected.http_referer = r.referer;
          if (r.agent !== undefined) expected.http_user_agent = r.agent;
          expect(ok(p.parse(line, ctx))).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
