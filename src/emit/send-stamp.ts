/**
 * Send-time fields: members a protocol writes into every message of a request at each attempt,
 * as the official SDKs and trackers do (RudderStack's per-message `sentAt`, Snowplow's `stm`), so
 * that a retry carries the time of the retry while the event time stays what it was. The members
 * go right after each message's opening brace: written here for events in memory and for rows
 * that must be decompressed; spliced rows (store/payload.ts) are stamped without decompressing
 * them (spliced-gzip.ts, docs/decisions/0030-send-time-stamps-spliced-into-stored-deflate.md).
 */
import { promisify } from 'node:util';
import { constants as zlibConstants, gunzip as gunzipCb, inflateRaw as inflateRawCb } from 'node:zlib';
import { readSplicedRow, splicedDictionary, unpackEvents, type SplicedRow, type StampSlot } from '../store/payload.js';

const gunzipAsync = promisify(gunzipCb);
const inflateRawAsync = promisify(inflateRawCb);

/** A member `before + value(nowMs) + after`, its value always `valueBytes` ASCII bytes long. */
export interface SendStamp extends StampSlot {
  /** UTF-8 bytes the stamp adds to each message; the same for every attempt. */
  readonly bytesPerMessage: number;
  /** The members for an attempt made at `nowMs`, each followed by a comma: `"sentAt":"...",`. */
  members(nowMs: number): string;
  value(nowMs: number): string;
}

/** A stamp of one time member, `"key":"<value>",`. */
export function timeStamp(key: string, value: (nowMs: number) => string, valueBytes: number): SendStamp {
  const before = `${JSON.stringify(key)}:"`;
  const after = '",';
  return { before, after, valueBytes, value, bytesPerMessage: before.length + valueBytes + after.length, members: (nowMs) => before + value(nowMs) + after };
}

/** A stamp of one ISO-8601 time member (`"sentAt":"2026-01-02T03:04:05.678Z",`). */
export function isoTimeStamp(key: string): SendStamp {
  return timeStamp(key, (nowMs) => new Date(nowMs).toISOString(), 24);
}

/** The value of `stamp` at `nowMs`, if it has the length rows keep room for (a year past 9999 has not). */
export function stampValue(stamp: SendStamp, nowMs: number): Buffer | undefined {
  const v = Buffer.from(stamp.value(nowMs), 'latin1');
  return v.length === stamp.valueBytes ? v : undefined;
}

/** Events joined by ",", each with `members` after its opening brace. */
export function stampedJoin(events: readonly string[], members: string): string {
  if (members === '') return events.join(',');
  let out = '';
  for (let i = 0; i < events.length; i++) out += (i === 0 ? '{' : ',{') + members + events[i]!.slice(1);
  return out;
}

/** Whether a spliced row holds the slot `stamp` fills (none without a stamp). */
export function fitsStamp(row: SplicedRow, stamp: SendStamp | undefined): boolean {
  if (!stamp) return row.memberBytes === 0;
  return row.memberBytes === stamp.bytesPerMessage && row.valueAt === stamp.before.length && row.valueBytes === stamp.valueBytes;
}

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
export const BETWEEN_ROWS = Buffer.from(',\n');

/**
 * `head`, then the events of stored rows (events joined by ",\n", store/payload.ts) each with
 * the stamp's members at `nowMs` after its opening brace, rows joined by ",\n", then `tail`: one
 * buffer, ready to send or to compress whole. Gzip members and spliced rows are decompressed on
 * the libuv pool, a spliced row with the time in its first slot, so it comes out stamped; in
 * the others the members are copied in at each newline. Every event starts with "{" and holds
 * no raw newline, so each newline is followed by the next event's brace.
 */
export async function stampedRows(rows: readonly Uint8Array[], stamp: SendStamp | undefined, nowMs: number, head: string, tail: string): Promise<Buffer> {
  const members = Buffer.from(stamp?.members(nowMs) ?? '');
  const value = stamp && stampValue(stamp, nowMs);
  const texts = await Promise.all(rows.map((r) => rowText(r, stamp, value, members)));
  const headBytes = Buffer.from(head);
  const tailBytes = Buffer.from(tail);
  let total = headBytes.length + tailBytes.length + BETWEEN_ROWS.length * (texts.length - 1);
  for (const t of texts) total += t.text.length + (t.stamped ? 0 : members.length * countEvents(t.text));
  const out = Buffer.allocUnsafe(total);
  let o = headBytes.copy(out, 0);
  texts.forEach(({ text: t, stamped }, i) => {
    if (i > 0) o += BETWEEN_ROWS.copy(out, o);
    if (stamped || members.length === 0) {
      o += t.copy(out, o);
      return;
    }
    for (let start = 0; ; ) {
      out[o++] = OPEN_BRACE;
      o += members.copy(out, o);
      const nl = t.indexOf(NEWLINE, start);
      const end = nl < 0 ? t.length : nl + 1;
      o += t.copy(out, o, start + 1, end);
      if (nl < 0) break;
      start = end;
    }
  });
  o += tailBytes.copy(out, o);
  return o === total ? out : out.subarray(0, o);
}

/** A row's text, and whether its stamps are in it already. */
async function rowText(row: Uint8Array, stamp: SendStamp | undefined, value: Buffer | undefined, members: Buffer): Promise<{ text: Buffer; stamped: boolean }> {
  const spliced = readSplicedRow(row);
  if (!spliced) return { text: await gunzipAsync(row, { chunkSize: outputChunkSize(row) }), stamped: false };
  if (fitsStamp(spliced, stamp) && (spliced.memberBytes === 0 || value)) {
    const dictionary = splicedDictionary(spliced, value ?? Buffer.alloc(0));
    const rest = await inflateRawAsync(spliced.deflated, { dictionary, finishFlush: zlibConstants.Z_SYNC_FLUSH, chunkSize: Math.max(64, spliced.length - dictionary.length) });
    return { text: Buffer.concat([dictionary, rest]), stamped: true };
  }
  // A row queued for another stamp (the output's type changed since): its events, stamped anew.
  const events = unpackEvents(row).map((e) => (members.length ? '{' + members.toString('latin1') + e.slice(1) : e));
  return { text: Buffer.from(events.join(',\n')), stamped: true };
}

/**
 * A gzip member's uncompressed size, from its trailer (ISIZE, RFC 1952), as the output chunk:
 * zlib then decompresses it in one pass on the pool, where 16 KiB chunks cost a round trip
 * to the main thread each, and a copy to join them.
 */
function outputChunkSize(member: Uint8Array): number {
  const isize = Buffer.from(member.buffer, member.byteOffset, member.byteLength).readUInt32LE(member.byteLength - 4);
  return Math.min(Math.max(isize, 64), 64 * 1024 * 1024);
}

function countEvents(text: Buffer): number {
  let n = 1;
  for (let i = text.indexOf(NEWLINE); i >= 0; i = text.indexOf(NEWLINE, i + 1)) n++;
  return n;
}
