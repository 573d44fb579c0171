/**
 * Syslog lines, RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`, structured data
 * kept as `{ sd_id: { param: value } }`) and RFC 3164 / BSD (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`,
 * the `<PRI>` optional as in files written by rsyslog/syslog-ng, an RFC 3339 timestamp accepted
 * in place of the BSD one). `rfc: auto` (default) picks per line. Timestamps stay as logged.
 */
import { ParserOptions } from './options.js';
import { setField } from './record.js';
import { ParseError, type LogRecord, type ParseResult, type Parser, type ParserFactory, type RecordValue } from './types.js';

const FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const PRI = /^<(\d{1,3})>/;
const RFC5424_HEAD = /^(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /;
const BSD_TS = /^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: (\d{4}))? /;
const ISO_TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) /;
const TAG = /^([^\s:\[]{1,128})(?:\[([^\]\s]*)\])?:(?: |$)/;

type Rfc = 'auto' | '3164' | '5424';

function setPriority(rec: LogRecord, pri: number): void {
  rec.priority = pri;
  rec.facility = pri >> 3;
  rec.severity = pri & 7;
  const f = FACILITIES[pri >> 3];
  if (f !== undefined) rec.facility_name = f;
  rec.severity_name = SEVERITIES[pri & 7] as string;
}

function procId(v: string): RecordValue {
  return /^\d{1,15}$/.test(v) ? Number(v) : v;
}

export class SyslogParser implements Parser {
  constructor(private readonly rfc: Rfc) {}

  parse(line: string): ParseResult {
    const rec: LogRecord = {};
    let pos = 0;
    const pm = PRI.exec(line);
    if (pm) {
      const pri = Number(pm[1]);
      if (pri > 191) return new ParseError(`priority ${pri} is out of range (0-191) at column 2`, 2);
      setPriority(rec, pri);
      pos = pm[0].length;
    }
    const rest = line.slice(pos);
    const head = RFC5424_HEAD.exec(rest);
    if (this.rfc === '5424' || (this.rfc === 'auto' && head && pm)) {
      if (!pm) return new ParseError('expected "<PRI>" at column 1 (RFC 5424)', 1);
      if (!head) return new ParseError(`expected "VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID" after the priority at column ${pos + 1} (RFC 5424)`, pos + 1);
      return this.parse5424(rec, rest, pos, head);
    }
    return this.parse3164(rec, rest, pos, pm !== null);
  }

  private parse5424(rec: LogRecord, rest: string, pos: number, head: RegExpExecArray): ParseResult {
    const [, version, ts, host, app, proc, msgid] = head as unknown as [string, string, string, string, string, string, string];
    rec.version = Number(version);
    if (ts !== '-') rec.timestamp = ts;
    if (host !== '-') rec.hostname = host;
    if (app !== '-') rec.app_name = app;
    if (proc !== '-') rec.procid = procId(proc);
    if (msgid !== '-') rec.msgid = msgid;
    let i = head[0].length;
    if (rest[i] === '-') i++;
    else if (rest[i] === '[') {
      const sd: { [id: string]: RecordValue } = {};
      const r = parseStructuredData(rest, i, sd);
      if (r instanceof ParseError) return new ParseError(r.reason.replace(/column (\d+)/, (_m, c: string) => `column ${Number(c) + pos}`), (r.column ?? 0) + pos);
      i = r;
      rec.structured_data = sd;
    } else return new ParseError(`expected "-" or "[" (structured data) at column ${pos + i + 1}`, pos + i + 1);
    if (i < rest.length) {
      if (rest[i] !== ' ') return new ParseError(`expected a space before the message at column ${pos + i + 1}`, pos + i + 1);
      let msg = rest.slice(i + 1);
      if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
      rec.message = msg;
    }
    return rec;
  }

  private parse3164(rec: LogRecord, rest: string, pos: number, hadPri: boolean): ParseResult {
    let m = BSD_TS.exec(rest);
    let i = 0;
    if (m) {
      rec.timestamp = m[2] ? `${m[1] as string} ${m[2]}` : (m[1] as string);
      i = m[0].length;
    } else if ((m = ISO_TS.exec(rest))) {
      rec.timestamp = m[1] as string;
      i = m[0].length;
    } else if (!hadPri) {
      return new ParseError('expected a timestamp such as "Mar  5 14:22:01" or "2025-03-05T14:22:01Z" at column 1');
    }
    // HOSTNAME: present when the next word is followed by a TAG; "Mar 5 10:00:00 sshd[1]: x" has none.
    const sp = rest.indexOf(' ', i);
    if (sp > i) {
      const word = rest.slice(i, sp);
      if (!word.endsWith(':') && !/\[\d*\]:?$/.test(word)) {
        rec.hostname = word;
        i = sp + 1;
      }
    }
    const tail = rest.slice(i);
    const t = TAG.exec(tail);
    if (t) {
      rec.app_name = t[1] as string;
      if (t[2] !== undefined && t[2] !== '') rec.procid = procId(t[2]);
      rec.message = tail.slice(t[0].length);
    } else rec.message = tail;
    return rec;
  }
}

/** Parses `[id k="v" ...][id2 ...]` from position i; returns the index after it, or a ParseError. */
function parseStructuredData(s: string, i: number, out: { [id: string]: RecordValue }): number | ParseError {
  while (s[i] === '[') {
    i++;
    const idEnd = s.slice(i).search(/[ \]]/);
    if (idEnd <= 0) return new ParseError(`expected an SD-ID after "[" at column ${i + 1}`, i + 1);
    const id = s.slice(i, i + idEnd);
    i += idEnd;
    const params: { [k: string]: RecordValue } = {};
    while (s[i] === ' ') {
      i++;
      const eq = s.indexOf('=', i);
      if (eq <= i || s[eq + 1] !== '"') return new ParseError(`expected name="value" in structured data "${id}" at column ${i + 1}`, i + 1);
      const name = s.slice(i, eq);
      i = eq + 2;
      let v = '';
      for (;;) {
        if (i >= s.length) return new ParseError(`unterminated value of "${name}" in structured data "${id}" at column ${eq + 2}`, eq + 2);
        const c = s[i] as string;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          v += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
      const prev = params[name];
      if (prev === undefined) setField(params, name, v);
      else if (Array.isArray(prev)) prev.push(v);
      else setField(params, name, [prev, v]);
    }
    if (s[i] !== ']') return new ParseError(`expected "]" to close structured data "${id}" at column ${i + 1}`, i + 1);
    i++;
    setField(out, id, params);
  }
  return i;
}

export const syslogFactory: ParserFactory = (options, ctx) => {
  const o = new ParserOptions(options, ctx.keyPath);
  const rfc = o.oneOf('rfc', ['auto', '3164', '5424'] as const, 'auto');
  o.rejectUnknown();
  return new SyslogParser(rfc);
};
