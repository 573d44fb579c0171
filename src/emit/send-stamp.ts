/**
 * Send-time fields: members a protocol writes into every message of a request at each attempt,
 * as the official SDKs and trackers do (RudderStack's per-message `sentAt`, Snowplow's `stm`), so
 * that a retry carries the time of the retry while the event time stays what it was. Queue rows
 * hold the messages without them (docs/decisions/0024-send-time-fields-are-stamped-into-each.md); the members are spliced in right after
 * each message's opening brace when a request is made, from the stored rows or from events.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';

const gunzipAsync = promisify(gunzipCb);

export interface SendStamp {
  /** UTF-8 bytes the stamp adds to each message; the same for every attempt. */
  readonly bytesPerMessage: number;
  /** The members for an attempt made at `nowMs`, each followed by a comma: `"sentAt":"...",`. */
  members(nowMs: number): string;
}

/** A stamp of one ISO-8601 time member (`"sentAt":"2026-01-02T03:04:05.678Z",`). */
export function isoTimeStamp(key: string): SendStamp {
  const members = (nowMs: number): string => `${JSON.stringify(key)}:"${new Date(nowMs).toISOString()}",`;
  return { bytesPerMessage: Buffer.byteLength(members(0)), members };
}

/** Events joined by ",", each with `members` after its opening brace. */
export function stampedJoin(events: readonly string[], members: string): string {
  if (members === '') return events.join(',');
  let out = '';
  for (let i = 0; i < events.length; i++) out += (i === 0 ? '{' : ',{') + members + events[i]!.slice(1);
  return out;
}

const NEWLINE = 0x0a;
const OPEN_BRACE = 0x7b;
const BETWEEN_ROWS = Buffer.from(',\n');

/**
 * `head`, then the events of stored rows (gzip members of events joined by ",\n",
 * store/payload.ts) each with `members` after its opening brace, rows joined by ",\n", then
 * `tail`: one buffer, ready to send or to compress whole. The rows are decompressed on the libuv
 * pool; what runs here is finding the newlines and copying. Every event starts with "{" and
 * holds no raw newline, so each newline is followed by the next event's brace.
 */
export async function stampedRows(rows: readonly Uint8Array[], members: string, head: string, tail: string): Promise<Buffer> {
  const texts = await Promise.all(rows.map((r) => gunzipAsync(r, { chunkSize: outputChunkSize(r) })));
  const stamp = Buffer.from(members);
  const headBytes = Buffer.from(head);
  const tailBytes = Buffer.from(tail);
  let total = headBytes.length + tailBytes.length + BETWEEN_ROWS.length * (texts.length - 1);
  for (const t of texts) total += t.length + stamp.length * countEvents(t);
  const out = Buffer.allocUnsafe(total);
  let o = headBytes.copy(out, 0);
  texts.forEach((t, i) => {
    if (i > 0) o += BETWEEN_ROWS.copy(out, o);
    if (stamp.length === 0) {
      o += t.copy(out, o);
      return;
    }
    for (let start = 0; ; ) {
      out[o++] = OPEN_BRACE;
      o += stamp.copy(out, o);
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
