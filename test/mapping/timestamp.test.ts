import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, test } from 'vitest';
import { TailshipError } from '../../src/errors.js';
import { compileStrftime, compileTimestamp, parseClf } from '../../src/mapping/timestamp.js';

const READ = Date.UTC(2024, 5, 15, 12, 0, 0); // 2024-06-15T12:00:00Z
const ts = (format: string | undefined, v: unknown, opts: { tz?: string; read?: number } = {}) =>
  compileTimestamp(format, opts.tz, 'pipelines[0].events[0]')(v as string, opts.read ?? READ);

describe('timestamp formats', () => {
  test('nginx / apache time_local', () => {
    expect(ts('nginx', '10/Oct/2000:13:55:36 -0700')).toBe('2000-10-10T20:55:36.000Z');
    expect(ts('nginx', '10/Oct/2000:13:55:36 +0000')).toBe('2000-10-10T13:55:36.000Z');
    expect(ts('nginx', '01/Jan/2024:00:30:00 +0530')).toBe('2023-12-31T19:00:00.000Z');
    expect(ts('apache', '[10/Oct/2000:13:55:36 -0700]')).toBe('2000-10-10T20:55:36.000Z');
    expect(ts('nginx', '10/Oct/2000:13:55:36.123 -0700')).toBe('2000-10-10T20:55:36.123Z');
    expect(ts('nginx', '31/Feb/2000:13:55:36 -0700')).toBeUndefined();
    expect(ts('nginx', '10/Foo/2000:13:55:36 -0700')).toBeUndefined();
    expect(ts('nginx', '10/Oct/2000:25:55:36 -0700')).toBeUndefined();
    expect(ts('nginx', '10/Oct/2000:13:55:36 PST')).toBeUndefined();
    expect(ts('nginx', 'garbage')).toBeUndefined();
    expect(ts('nginx', 12)).toBeUndefined();
    expect(ts('nginx', undefined)).toBeUndefined();
    expect(parseClf('10/Oct/2000:13:55:36 -0700')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
  });

  test('the one-entry cache does not confuse consecutive values', () => {
    const p = compileTimestamp('nginx', undefined, 'p');
    expect(p('10/Oct/2000:13:55:36 -0700', READ)).toBe('2000-10-10T20:55:36.000Z');
    expect(p('10/Oct/2000:13:55:36 -0700', READ)).toBe('2000-10-10T20:55:36.000Z');
    expect(p('10/Oct/2000:13:55:37 -0700', READ)).toBe('2000-10-10T20:55:37.000Z');
    expect(p('bad', READ)).toBeUndefined();
    expect(p('10/Oct/2000:13:55:37 -0700', READ)).toBe('2000-10-10T20:55:37.000Z');
  });

  test('syslog in UTC, worked out without Luxon, agrees with Luxon for every wall clock, existing or not', () => {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const byLuxon = (year: number, month: number, day: number, hour: number, minute: number, second: number): number | undefined => {
      const dt = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: 'UTC' });
      return dt.isValid ? dt.toMillis() : undefined;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: Date.UTC(2023, 0, 1), max: Date.UTC(2029, 0, 1) }),
        (m, day, hour, minute, second, read) => {
          const two = (n: number) => String(n).padStart(2, '0');
          const text = `${months[m]} ${String(day).padStart(2, ' ')} ${two(hour)}:${two(minute)}:${two(second)}`;
          const year = new Date(read).getUTCFullYear();
          let want = byLuxon(year, m + 1, day, hour, minute, second);
          if (want !== undefined && want > read + 86_400_000) want = byLuxon(year - 1, m + 1, day, hour, minute, second);
          want ??= byLuxon(year - 1, m + 1, day, hour, minute, second);
          expect(ts('syslog', text, { read })).toBe(want === undefined ? undefined : new Date(want).toISOString());
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('iso8601 and rfc3339', () => {
    expect(ts('iso8601', '2024-03-01T10:00:00Z')).toBe('2024-03-01T10:00:00.000Z');
    expect(ts('iso8601', '2024-03-01T10:00:00.5+02:00')).toBe('2024-03-01T08:00:00.500Z');
    expect(ts('iso8601', '2024-03-01T10:00:00+0200')).toBe('2024-03-01T08:00:00.000Z');
    expect(ts('iso8601', '2024-03-01T10:00:00')).toBe('2024-03-01T10:00:00.000Z');
    expect(ts('iso8601', '2024-03-01T10:00:00', { tz: 'Europe/Paris' })).toBe('2024-03-01T09:00:00.000Z');
    expect(ts('iso8601', '2024-07-01T10:00:00', { tz: 'Europe/Paris' })).toBe('2024-07-01T08:00:00.000Z');
    expect(ts('iso8601', '2024-03-01')).toBe('2024-03-01T00:00:00.000Z');
    expect(ts('rfc3339', '2024-03-01 10:00:00.123456Z')).toBe('2024-03-01T10:00:00.123Z');
    expect(ts('rfc3339', '2024-03-01T10:00:00-05:00')).toBe('2024-03-01T15:00:00.000Z');
    expect(ts('rfc3339', '2024-13-01T10:00:00Z')).toBeUndefined();
    expect(ts('iso8601', 'yesterday')).toBeUndefined();
  });

  test('syslog without a year: the read year, or the year before across new year', () => {
    expect(ts('syslog', 'Oct 11 22:14:15')).toBe('2023-10-11T22:14:15.000Z');
    expect(ts('syslog', 'Jun 15 11:59:00')).toBe('2024-06-15T11:59:00.000Z');
    expect(ts('syslog', 'Jun  5 01:02:03')).toBe('2024-06-05T01:02:03.000Z');
    // read on 1 Jan 2025 at 00:00:05 UTC: a Dec 31 line is from 2024
    const newYear = Date.UTC(2025, 0, 1, 0, 0, 5);
    expect(ts('syslog', 'Dec 31 23:59:59', { read: newYear })).toBe('2024-12-31T23:59:59.000Z');
    expect(ts('syslog', 'Jan  1 00:00:01', { read: newYear })).toBe('2025-01-01T00:00:01.000Z');
    expect(ts('syslog', 'Oct 11 22:14:15', { tz: 'America/New_York' })).toBe('2023-10-12T02:14:15.000Z');
    expect(ts('syslog', 'Oct 11 22:14:15.250')).toBe('2023-10-11T22:14:15.250Z');
    expect(ts('syslog', 'Foo 11 22:14:15')).toBeUndefined();
  });

  test('epoch seconds, milliseconds, microseconds', () => {
    expect(ts('epoch_s', 1700000000)).toBe('2023-11-14T22:13:20.000Z');
    expect(ts('epoch_s', '1700000000.25')).toBe('2023-11-14T22:13:20.250Z');
    expect(ts('epoch_ms', 1700000000123)).toBe('2023-11-14T22:13:20.123Z');
    expect(ts('epoch_ms', '1700000000123')).toBe('2023-11-14T22:13:20.123Z');
    expect(ts('epoch_us', 1700000000123456)).toBe('2023-11-14T22:13:20.123Z');
    expect(ts('epoch_s', 'abc')).toBeUndefined();
    expect(ts('epoch_s', 1e20)).toBeUndefined();
  });

  test('auto-detection when no format is given', () => {
    expect(ts(undefined, 1700000000)).toBe('2023-11-14T22:13:20.000Z');
    expect(ts(undefined, 1700000000123)).toBe('2023-11-14T22:13:20.123Z');
    expect(ts(undefined, 1700000000123456)).toBe('2023-11-14T22:13:20.123Z');
    expect(ts(undefined, '1700000000123456789')).toBe('2023-11-14T22:13:20.123Z');
    expect(ts(undefined, '1700000000')).toBe('2023-11-14T22:13:20.000Z');
    expect(ts(undefined, '10/Oct/2000:13:55:36 -0700')).toBe('2000-10-10T20:55:36.000Z');
    expect(ts(undefined, '[10/Oct/2000:13:55:36 -0700]')).toBe('2000-10-10T20:55:36.000Z');
    expect(ts(undefined, '2024-03-01T10:00:00Z')).toBe('2024-03-01T10:00:00.000Z');
    expect(ts(undefined, 'Oct 11 22:14:15')).toBe('2023-10-11T22:14:15.000Z');
    expect(ts(undefined, 'not a time')).toBeUndefined();
    expect(ts(undefined, null)).toBeUndefined();
    expect(ts(undefined, true)).toBeUndefined();
  });

  test('custom strftime-like formats', () => {
    expect(ts('%Y-%m-%d %H:%M:%S', '2024-03-01 10:11:12')).toBe('2024-03-01T10:11:12.000Z');
    expect(ts('%Y-%m-%d %H:%M:%S', '2024-03-01 10:11:12', { tz: 'Asia/Tokyo' })).toBe('2024-03-01T01:11:12.000Z');
    expect(ts('%d/%m/%Y %H:%M:%S.%L %z', '01/03/2024 10:11:12.345 +0100')).toBe('2024-03-01T09:11:12.345Z');
    expect(ts('%b %d %Y %T', 'Mar 01 2024 10:11:12')).toBe('2024-03-01T10:11:12.000Z');
    expect(ts('[%F %T]', '[2024-03-01 10:11:12]')).toBe('2024-03-01T10:11:12.000Z');
    expect(ts('%Y-%m-%d %H:%M:%S', 'nope')).toBeUndefined();
    expect(ts('%Y-%m-%d %H:%M:%S.%f', '2024-03-01 10:11:12.123456')).toBe('2024-03-01T10:11:12.123Z');
    expect(ts('%Y-%m-%d %H:%M:%S,%f', '2024-03-01 10:11:12,5')).toBe('2024-03-01T10:11:12.500Z');
    expect(ts('%s', '1700000000')).toBe('2023-11-14T22:13:20.000Z');
    expect(ts('%I:%M %p %d.%m.%Y', '01:05 PM 01.03.2024')).toBe('2024-03-01T13:05:00.000Z');
    expect(ts('%I:%M %p %d.%m.%Y', '12:05 am 01.03.2024')).toBe('2024-03-01T00:05:00.000Z');
    expect(ts('%d %B %y', '05 March 24')).toBe('2024-03-05T00:00:00.000Z');
    expect(ts('%d %B %y', '05 Marchy 24')).toBeUndefined();
    expect(ts('%Y.%j', '2024.061')).toBe('2024-03-01T00:00:00.000Z');
    expect(ts('%a %b %e %T %Z %Y', 'Fri Mar  1 10:11:12 Europe/Paris 2024')).toBe('2024-03-01T09:11:12.000Z');
    expect(ts('%d/%m %H:%M', '29/02 10:00')).toBe('2024-02-29T10:00:00.000Z');
    expect(ts('%d/%m %H:%M', '29/02 10:00', { read: Date.UTC(2023, 5, 1) })).toBeUndefined();
    expect(ts('%d/%m %H:%M', '31/12 23:00', { read: Date.UTC(2025, 0, 1, 0, 10) })).toBe('2024-12-31T23:00:00.000Z');
    expect(ts('%d/%m %H:%M', '01/06 10:00')).toBe('2024-06-01T10:00:00.000Z');
    expect(ts('at %H o\'clock 100%% %Y-%m-%d', "at 07 o'clock 100% 2024-03-01")).toBe('2024-03-01T07:00:00.000Z');
    expect(compileStrftime('%F %T').re.test('2024-03-01 10:11:12')).toBe(true);
    expect(compileStrftime('%F %T').re.test('2024-03-01T10:11:12')).toBe(false);
    expect(ts("yyyy-MM-dd'T'HH:mm", '2024-03-01T10:11')).toBe('2024-03-01T10:11:00.000Z');
  });

  test('config errors: unknown zone, bad directive', () => {
    const zoneErr = (() => {
      try {
        compileTimestamp('iso8601', 'Mars/Olympus', 'pipelines[0].events[4]');
      } catch (e) {
        return e as TailshipError;
      }
      return undefined;
    })();
    expect(zoneErr?.code).toBe('TAILSHIP_CONFIG_INVALID');
    expect(zoneErr?.place.path).toBe('pipelines[0].events[4].timezone');
    expect(() => compileTimestamp('%Y-%Q', undefined, 'p')).toThrowError(/unknown directive %Q/);
  });
});
