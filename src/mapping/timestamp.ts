/**
 * Event timestamps: turns a record value into an ISO 8601 UTC string with milliseconds
 * (`2000-10-10T20:55:36.000Z`). Formats: `nginx` / `apache` (`10/Oct/2000:13:55:36 -0700`),
 * `iso8601`, `rfc3339`, `syslog` (`Oct 11 22:14:15`, year inferred from the read time),
 * `epoch_s` / `epoch_ms` / `epoch_us`, a strftime-like pattern (`%Y-%m-%d %H:%M:%S`, parsed by
 * a regex compiled from it) or a Luxon format (no `%`); with no format, the kind is detected
 * from the value. `timezone` (IANA) applies to values that carry no offset. A value that is absent or does not parse gives `undefined`: the mapper then
 * uses the read time and counts it. The nginx/apache path is hand-written and caches the last
 * value and the zone offsets, since consecutive log lines mostly share a second.
 */
import { DateTime } from 'luxon';
import { TailshipError } from '../errors.js';
import type { Value } from './conversions.js';

/** Parses a value into an ISO 8601 UTC string, or `undefined` when it cannot. */
export type TimestampParser = (v: Value, readAtMs: number) => string | undefined;

export const NAMED_FORMATS = ['nginx', 'apache', 'iso8601', 'rfc3339', 'syslog', 'epoch_s', 'epoch_ms', 'epoch_us'] as const;

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};
const MAX_MS = 8.64e15;

function iso(ms: number): string | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_MS ? new Date(ms).toISOString() : undefined;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month0: number): number {
  if (month0 === 1 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS[month0] ?? 0;
}

const zoneOffsets = new Map<string, number>();

/** `-0700` / `+05:30` / `Z` → minutes east of UTC; cached per text. */
function zoneOffsetMinutes(z: string): number | undefined {
  const hit = zoneOffsets.get(z);
  if (hit !== undefined) return hit;
  let m: number | undefined;
  if (z === 'Z' || z === 'UTC' || z === 'GMT') m = 0;
  else {
    const r = /^([+-])(\d\d):?(\d\d)$/.exec(z);
    if (r) m = (r[1] === '-' ? -1 : 1) * (Number(r[2]) * 60 + Number(r[3]));
  }
  if (m !== undefined && zoneOffsets.size < 256) zoneOffsets.set(z, m);
  return m;
}

/** `10/Oct/2000:13:55:36 -0700`, optionally in [brackets] and with .mmm after the seconds. */
export function parseClf(raw: string): number | undefined {
  let s = raw;
  if (s.charCodeAt(0) === 91 /* [ */) s = s.slice(1, s.endsWith(']') ? -1 : undefined);
  if (s.length < 20 || s[2] !== '/' || s[6] !== '/' || s[11] !== ':' || s[14] !== ':' || s[17] !== ':') return undefined;
  const day = digits(s, 0, 2);
  const month = MONTHS[s.slice(3, 6)];
  const year = digits(s, 7, 4);
  const h = digits(s, 12, 2);
  const mi = digits(s, 15, 2);
  const sec = digits(s, 18, 2);
  if (month === undefined || day < 1 || year < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return undefined;
  if (day > daysIn(year, month)) return undefined;
  let i = 20;
  let frac = 0;
  if (s[i] === '.') {
    const start = ++i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    frac = Math.floor(Number(`0.${s.slice(start, i) || '0'}`) * 1000);
  }
  let offset = 0;
  if (i < s.length) {
    if (s[i] !== ' ') return undefined;
    const z = zoneOffsetMinutes(s.slice(i + 1));
    if (z === undefined) return undefined;
    offset = z;
  }
  return Date.UTC(year, month, day, h, mi, sec, frac) - offset * 60_000;
}

const ISO_FULL = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$/i;

function parseIso(s: string, zone: string): number | undefined {
  const t = s.trim();
  if (ISO_FULL.test(t)) {
    // Date.parse is exact for a full date-time with an offset; normalise what it may not take.
    let n = t.replace(' ', 'T');
    n = n.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
    const ms = Date.parse(n);
    if (!Number.isNaN(ms)) return ms;
  }
  const dt = DateTime.fromISO(t.includes(' ') && !t.includes('T') ? t.replace(' ', 'T') : t, { zone });
  return dt.isValid ? dt.toMillis() : undefined;
}

function epochMs(n: number, unit: 's' | 'ms' | 'us' | 'auto'): number {
  let u = unit;
  if (u === 'auto') {
    const a = Math.abs(n);
    u = a < 1e11 ? 's' : a < 1e14 ? 'ms' : a < 1e17 ? 'us' : 'us';
    if (a >= 1e17) return Math.floor(n / 1e6); // nanoseconds
  }
  return u === 's' ? Math.round(n * 1000) : u === 'ms' ? Math.floor(n) : Math.floor(n / 1000);
}

function numeric(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

const SYSLOG = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/;

/** Syslog `Mmm dd HH:MM:SS[.frac]` has no year: take the read time's, or the year before when that would put the line more than a day in the future (Dec → Jan rollover). */
function parseSyslog(s: string, zone: string, readAtMs: number): number | undefined {
  const m = SYSLOG.exec(s.trim());
  if (!m) return undefined;
  const month = MONTHS[m[1] as string];
  if (month === undefined) return undefined;
  const readYear = yearAt(readAtMs, zone);
  const parts = {
    month: month + 1,
    day: Number(m[2]),
    hour: Number(m[3]),
    minute: Number(m[4]),
    second: Number(m[5]),
    millisecond: m[6] ? Math.floor(Number(`0.${m[6]}`) * 1000) : 0,
  };
  let ms = wallClockMs({ year: readYear, ...parts }, zone);
  if (ms !== undefined && ms > readAtMs + 86_400_000) ms = wallClockMs({ year: readYear - 1, ...parts }, zone);
  // Feb 29 of a year that is not a leap year: try the year before.
  return ms ?? wallClockMs({ year: readYear - 1, ...parts }, zone);
}

interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/**
 * A wall-clock time in `zone` as epoch ms, or undefined when it does not exist (Feb 30, 25:00).
 * UTC is plain arithmetic with Luxon's ranges; only other zones go through Luxon, whose first
 * use loads ICU's locale and zone data into the process (several MiB of resident pages).
 */
function wallClockMs(t: WallClock, zone: string): number | undefined {
  if (zone !== 'UTC') {
    const dt = DateTime.fromObject(t, { zone });
    return dt.isValid ? dt.toMillis() : undefined;
  }
  const endOfDay = t.hour === 24 && t.minute === 0 && t.second === 0 && t.millisecond === 0;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysIn(t.year, t.month - 1)) return undefined;
  if ((t.hour > 23 && !endOfDay) || t.minute > 59 || t.second > 59 || t.millisecond > 999) return undefined;
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.millisecond);
}

/** The calendar year in `zone` at `ms` (UTC without Luxon, as above). */
function yearAt(ms: number, zone: string): number {
  return zone === 'UTC' ? new Date(ms).getUTCFullYear() : DateTime.fromMillis(ms, { zone }).year;
}

type Fields = {
  year?: number;
  year2?: number;
  month?: number;
  day?: number;
  yday?: number;
  hour?: number;
  hour12?: number;
  pm?: boolean;
  minute?: number;
  second?: number;
  ms?: number;
  offsetMin?: number;
  zoneName?: string;
  epoch?: number;
};
type Directive = { re: string; set?: (f: Fields, v: string) => boolean };

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const monthIndex = (v: string): number => MONTH_NAMES.findIndex((m) => m.startsWith(v.toLowerCase()) && v.length >= 3);
const int = (key: keyof Fields) => (f: Fields, v: string): boolean => {
  (f as Record<string, number>)[key] = Number(v);
  return true;
};

/** strftime directives → a regex fragment and how its text sets a field. */
const DIRECTIVES: Readonly<Record<string, Directive | string>> = {
  Y: { re: '([+-]?\\d{4})', set: int('year') },
  y: { re: '(\\d{2})', set: int('year2') },
  m: { re: '(\\d{1,2})', set: int('month') },
  d: { re: '(\\d{1,2})', set: int('day') },
  e: { re: ' ?(\\d{1,2})', set: int('day') },
  j: { re: '(\\d{3})', set: int('yday') },
  H: { re: '(\\d{1,2})', set: int('hour') },
  I: { re: '(\\d{1,2})', set: int('hour12') },
  M: { re: '(\\d{1,2})', set: int('minute') },
  S: { re: '(\\d{1,2})', set: int('second') },
  L: { re: '(\\d{3})', set: int('ms') },
  f: { re: '(\\d{1,9})', set: (f, v) => ((f.ms = Math.floor(Number(`0.${v}`) * 1000)), true) },
  p: { re: '([AaPp][Mm])', set: (f, v) => ((f.pm = v.toLowerCase() === 'pm'), true) },
  b: { re: '([A-Za-z]{3})', set: (f, v) => ((f.month = monthIndex(v) + 1), f.month > 0) },
  h: 'b',
  B: { re: '([A-Za-z]{3,9})', set: (f, v) => ((f.month = monthIndex(v) + 1), f.month > 0 && MONTH_NAMES[f.month - 1] === v.toLowerCase()) },
  a: { re: '(?:[A-Za-z]{3})' },
  A: { re: '(?:[A-Za-z]{6,9})' },
  z: {
    re: '(Z|[+-]\\d\\d:?\\d\\d)',
    set: (f, v) => {
      const m = zoneOffsetMinutes(v);
      if (m === undefined) return false;
      f.offsetMin = m;
      return true;
    },
  },
  Z: { re: '([A-Za-z][A-Za-z0-9_/+-]*)', set: (f, v) => ((f.zoneName = v), true) },
  s: { re: '(-?\\d+(?:\\.\\d+)?)', set: (f, v) => ((f.epoch = Number(v)), true) },
  T: '%H:%M:%S',
  F: '%Y-%m-%d',
  D: '%m/%d/%y',
  R: '%H:%M',
  n: { re: '\\s+' },
  t: { re: '\\s+' },
};

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Strftime {
  readonly re: RegExp;
  readonly setters: ReadonlyArray<(f: Fields, v: string) => boolean>;
}

/** Compiles a strftime-like pattern into one anchored regex plus a setter per capture group. */
export function compileStrftime(pattern: string): Strftime {
  let re = '';
  const setters: Array<(f: Fields, v: string) => boolean> = [];
  const walk = (p: string): void => {
    for (let i = 0; i < p.length; i++) {
      const c = p[i] as string;
      if (c !== '%') {
        re += /\s/.test(c) ? '\\s+' : escapeRe(c);
        while (/\s/.test(c) && /\s/.test(p[i + 1] ?? '')) i++;
        continue;
      }
      const k = p[++i] ?? '';
      if (k === '%') {
        re += '%';
        continue;
      }
      let d = DIRECTIVES[k];
      if (typeof d === 'string' && d.length === 1) d = DIRECTIVES[d];
      if (d === undefined) throw new Error(`unknown directive %${k} (known: ${Object.keys(DIRECTIVES).map((x) => `%${x}`).join(' ')} %%)`);
      if (typeof d === 'string') walk(d);
      else {
        re += d.re;
        if (d.set) setters.push(d.set);
      }
    }
  };
  walk(pattern);
  return { re: new RegExp(`^${re}$`), setters };
}

/** Applies a compiled strftime pattern; fields it lacks default as strptime does, the year as syslog's does. */
function parseStrftime(f: Strftime, s: string, zone: string, readAtMs: number): number | undefined {
  const m = f.re.exec(s);
  if (!m) return undefined;
  const v: Fields = {};
  for (let i = 0; i < f.setters.length; i++) if (!(f.setters[i] as (f: Fields, v: string) => boolean)(v, m[i + 1] ?? '')) return undefined;
  if (v.epoch !== undefined) return Math.round(v.epoch * 1000);
  let hour = v.hour ?? 0;
  if (v.hour12 !== undefined) {
    if (v.hour12 < 1 || v.hour12 > 12) return undefined;
    hour = (v.hour12 % 12) + (v.pm ? 12 : 0);
  }
  const zoneFor = v.zoneName ?? zone;
  let year = v.year ?? (v.year2 !== undefined ? (v.year2 < 69 ? 2000 + v.year2 : 1900 + v.year2) : undefined);
  const inferYear = year === undefined;
  year ??= yearAt(readAtMs, zoneFor);
  let month = v.month ?? 1;
  let day = v.day ?? 1;
  if (v.yday !== undefined) {
    const d = new Date(Date.UTC(year, 0, v.yday));
    if (v.yday < 1 || d.getUTCFullYear() !== year) return undefined;
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
  }
  const minute = v.minute ?? 0;
  const second = v.second ?? 0;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month - 1) || hour > 23 || minute > 59 || second > 60) return undefined;
  const at = (y: number): number | undefined => {
    if (v.offsetMin !== undefined) return Date.UTC(y, month - 1, day, hour, minute, second, v.ms ?? 0) - v.offsetMin * 60_000;
    if (zoneFor === 'UTC') return Date.UTC(y, month - 1, day, hour, minute, second, v.ms ?? 0);
    return wallClockMs({ year: y, month, day, hour, minute, second, millisecond: v.ms ?? 0 }, zoneFor);
  };
  const ms = at(year);
  if (ms !== undefined && inferYear && ms > readAtMs + 86_400_000) return at(year - 1);
  return ms;
}

function configError(message: string, path: string): TailshipError {
  return new TailshipError('TAILSHIP_CONFIG_INVALID', message, { path });
}

/** Validates an IANA zone name; throws TAILSHIP_CONFIG_INVALID naming `path` when it is unknown. */
export function checkZone(zone: string, path: string): string {
  if (!DateTime.now().setZone(zone).isValid) throw configError(`unknown time zone ${JSON.stringify(zone)} (expected an IANA name such as "Europe/Paris" or "UTC")`, path);
  return zone;
}

/** Wraps a string parser with a one-entry cache: consecutive lines mostly share their time text. */
function cached(parse: (s: string, readAtMs: number) => number | undefined, readDependent: boolean): TimestampParser {
  let lastIn = '';
  let lastOut: string | undefined;
  let lastRead = NaN;
  return (v, readAtMs) => {
    if (typeof v !== 'string') return undefined;
    if (v === lastIn && (!readDependent || Math.abs(readAtMs - lastRead) < 3_600_000)) return lastOut;
    const ms = parse(v, readAtMs);
    const out = ms === undefined ? undefined : iso(ms);
    lastIn = v;
    lastOut = out;
    lastRead = readAtMs;
    return out;
  };
}

/**
 * Compiles a timestamp parser for `format` (a named format, a strftime-like pattern, or
 * undefined for detection) and `timezone` (for values without an offset; default UTC).
 * Throws TAILSHIP_CONFIG_INVALID, naming `path`, for a bad pattern or zone.
 */
export function compileTimestamp(format: string | undefined, timezone: string | undefined, path: string): TimestampParser {
  const zone = timezone === undefined ? 'UTC' : checkZone(timezone, `${path}.timezone`);
  switch (format) {
    case 'nginx':
    case 'apache':
    case 'clf':
      return cached((s) => parseClf(s.trim()), false);
    case 'iso8601':
    case 'rfc3339':
      return cached((s) => parseIso(s, zone), false);
    case 'syslog':
      return cached((s, r) => parseSyslog(s, zone, r), true);
    case 'epoch_s':
    case 'epoch_ms':
    case 'epoch_us': {
      const unit = format === 'epoch_s' ? 's' : format === 'epoch_ms' ? 'ms' : 'us';
      return (v) => {
        const n = numeric(v);
        return n === undefined ? undefined : iso(epochMs(n, unit));
      };
    }
    case undefined: {
      const clf = cached((s) => parseClf(s.trim()), false);
      const other = cached((s, r) => {
        const t = s.trim();
        const n = numeric(t);
        if (n !== undefined) return epochMs(n, 'auto');
        if (SYSLOG.test(t)) return parseSyslog(t, zone, r);
        return parseIso(t, zone);
      }, true);
      return (v, r) => {
        if (typeof v === 'number') return iso(epochMs(v, 'auto'));
        if (typeof v !== 'string') return undefined;
        const c = v.charCodeAt(v.charCodeAt(0) === 91 ? 3 : 2);
        return c === 47 /* / */ ? clf(v, r) : other(v, r);
      };
    }
    default: {
      if (format.includes('%')) {
        let f: Strftime;
        try {
          f = compileStrftime(format);
        } catch (e) {
          throw configError(`bad timestamp_format ${JSON.stringify(format)}: ${(e as Error).message}`, `${path}.timestamp_format`);
        }
        return cached((s, r) => parseStrftime(f, s.trim(), zone, r), true);
      }
      // No %: a Luxon format string (docs/mapping.md).
      return cached((s) => {
        const dt = DateTime.fromFormat(s.trim(), format, { zone });
        return dt.isValid ? dt.toMillis() : undefined;
      }, false);
    }
  }
}
