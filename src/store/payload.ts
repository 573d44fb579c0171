/**
 * The stored form of a queue row's events, one per line, each but the last followed by its
 * output's separator ("," for JSON-array bodies, nothing for NDJSON). Compressing on the
 * processing threads keeps the queue small on disk through a long outage. Two forms are written:
 *
 * - **spliced**, for outputs whose destination sends rows as stored (RudderStack, Segment): each
 *   event carries its send-time stamp member right after its opening brace, its time a
 *   placeholder; the row is raw deflate that a request can carry as it is, with the first
 *   placeholder outside it and every later one a copy of the first, so that writing the time
 *   once per row stamps every event (emit/spliced-gzip.ts, docs/decisions/0030-send-time-stamps-spliced-into-stored-deflate.md);
 * - **a gzip member** of the events, for the other outputs, and where a spliced row could not
 *   be made so (checked when it is packed).
 *
 * Rows written by earlier versions (TEXT, raw deflate, gzip members) still read.
 */
import { constants as zlibConstants, crc32, deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { sumXPow8 } from './crc32-algebra.js';

/** Level 1: on event JSON it compresses nearly as well as 6 at several times the speed. */
const GZIP_LEVEL = 1;
/** Shared with the requests, compressed whole at send time (emit/http.ts). */
export const GZIP_OPTIONS = { level: GZIP_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

/**
 * A send-time stamp member as rows hold it: `before`, then a time of `valueBytes` ASCII bytes
 * written at each attempt, then `after` (e.g. `"sentAt":"` + 24 bytes + `",`).
 */
export interface StampSlot {
  readonly before: string;
  readonly valueBytes: number;
  readonly after: string;
}

/** How an output's rows are written: spliced (with its stamp's slot, if it has one), else gzip members. */
export interface RowForm {
  readonly spliced: boolean;
  readonly slot?: StampSlot | undefined;
}

/**
 * The time of a slot while a row is stored: bytes JSON text never holds raw (control bytes, no
 * newline), all different, so a compressor can only copy each from the same place of another
 * slot. At most 30 bytes.
 */
export function placeholder(valueBytes: number): Buffer {
  if (valueBytes > 30) throw new Error(`a stamp's time of ${valueBytes} bytes is longer than a placeholder (30)`);
  const p = Buffer.allocUnsafe(valueBytes);
  for (let i = 0; i < valueBytes; i++) p[i] = i < 9 ? i + 1 : i + 2; // 0x01.., skipping "\n"
  return p;
}

/** Another set of distinct bytes, each different from the placeholder's at its place: the check's time. */
function checkValue(valueBytes: number): Buffer {
  const p = placeholder(valueBytes);
  for (let i = 0; i < p.length; i++) p[i]! += 0x40;
  return p;
}

/**
 * One row being written: its events' UTF-8 straight into one buffer, each but the last followed
 * by the separator and a newline, then packed in its stored form. Writing the bytes directly
 * measures each event's size on the way and spares joining the strings and encoding them again.
 * The buffer is reused from row to row (the processing stages keep one per output, on a worker or
 * on the main thread), unless a row grew it past `keepBytes`.
 */
export class RowBytes {
  private buf: Buffer;
  private used = 0;
  private count = 0;
  private readonly between: Buffer;
  /** The stamp member as stored (before, placeholder, after), for spliced rows with a slot. */
  private readonly member: Buffer | undefined;
  private readonly valueAt: number;
  private readonly valueBytes: number;
  /** Where each event's stamp member starts in `buf`. */
  private readonly members: number[] = [];

  constructor(
    separator: string,
    private readonly initialBytes = 64 * 1024,
    private readonly keepBytes = Infinity,
    private readonly form: RowForm = { spliced: false },
  ) {
    this.between = Buffer.from(separator + '\n');
    this.buf = Buffer.allocUnsafe(initialBytes);
    const slot = form.spliced ? form.slot : undefined;
    this.member = slot && Buffer.concat([Buffer.from(slot.before), placeholder(slot.valueBytes), Buffer.from(slot.after)]);
    this.valueAt = slot ? Buffer.byteLength(slot.before) : 0;
    this.valueBytes = slot?.valueBytes ?? 0;
  }

  get events(): number {
    return this.count;
  }

  /** Bytes of the buffer kept for the next row. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Drops the events appended since the last pack (those of a batch that failed midway). */
  clear(): void {
    this.used = 0;
    this.count = 0;
    this.members.length = 0;
  }

  /** Bytes a row adds to each event beyond its separator and newline: its stamp member and pad, at most. */
  get stampBytesPerEvent(): number {
    return this.member ? this.member.length + PAD_CYCLE - 1 : 0;
  }

  /** Appends an event (a JSON object where rows carry a stamp) and returns its size in UTF-8 bytes. */
  append(event: string): number {
    const member = this.member;
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    const room = this.between.length + (member ? member.length + PAD_CYCLE : 0) + 3 * event.length;
    if (this.used + room > this.buf.length) this.grow(this.used + room);
    if (this.count > 0) this.used += this.between.copy(this.buf, this.used);
    let bytes: number;
    if (member === undefined) {
      bytes = this.buf.write(event, this.used);
      this.used += bytes;
    } else {
      if (event.charCodeAt(0) !== OPEN_BRACE) throw new Error('an event stamped at send time must be a JSON object');
      // The event goes after the room of its pad and member, then "{", the pad and the member over its own "{".
      const start = this.used;
      const pad = this.count % PAD_CYCLE;
      bytes = this.buf.write(event, start + pad + member.length);
      this.buf[start] = OPEN_BRACE;
      this.buf.fill(SPACE, start + 1, start + 1 + pad);
      member.copy(this.buf, start + 1 + pad);
      this.members.push(start + 1 + pad);
      this.used = start + pad + member.length + bytes;
    }
    this.count++;
    return bytes;
  }

  /** The stored form of the events appended since the last pack; the row is empty afterwards. */
  pack(): Buffer {
    const text = this.buf.subarray(0, this.used);
    const packed = !this.form.spliced ? gzipSync(text, GZIP_OPTIONS) : this.member ? this.packStamped(text) : packSpliced(text, 0, 0, 0, deflateRawSync(text, SPLICED_OPTIONS));
    this.clear();
    if (this.buf.length > this.keepBytes) this.buf = Buffer.allocUnsafe(this.initialBytes);
    return packed;
  }

  /**
   * A spliced row with a stamp slot in each event. The text after the first slot's time is
   * compressed with the text up to it as the dictionary, so later slots are copies of it. That
   * holds only if the compressor copied every later slot's bytes rather than writing them out,
   * which it usually does but does not promise: the row is decompressed once with another time
   * in the first slot, and must come out with that time in every slot. If not, the row is
   * stored as a gzip member of its events, sent the slower way.
   */
  private packStamped(text: Buffer): Buffer {
    const { valueAt, valueBytes } = this;
    const firstValue = this.members[0]! + this.valueAt;
    const afterFirst = firstValue + valueBytes;
    const deflated = deflateRawSync(text.subarray(afterFirst), { ...SPLICED_OPTIONS, dictionary: text.subarray(0, afterFirst) });
    const packed = packSpliced(text, this.member!.length, valueAt, valueBytes, deflated, this.slotFactor(text.length), firstValue);
    const check = checkValue(valueBytes);
    for (const m of this.members) for (let i = 0, at = m + valueAt; i < valueBytes; i++) text[at + i] = check[i]!;
    const out = inflateRawSync(deflated, { dictionary: text.subarray(0, afterFirst), finishFlush: zlibConstants.Z_SYNC_FLUSH, chunkSize: Math.max(64, text.length - afterFirst) });
    return out.equals(text.subarray(afterFirst)) ? packed : gzipSync(this.withoutMembers(text), GZIP_OPTIONS);
  }

  /**
   * Σ x^(8·z) over the slots, z = the bytes after a slot's time: a row's CRC with time V in
   * every slot is its CRC with the placeholder XOR crc32Linear(V XOR placeholder)·factor.
   */
  private slotFactor(length: number): number {
    const end = this.valueAt + this.valueBytes;
    return sumXPow8(this.members.map((m) => length - m - end));
  }

  /** The events as they were appended: without their pads and members. */
  private withoutMembers(text: Buffer): Buffer {
    const width = this.member!.length;
    const out = Buffer.allocUnsafe(text.length);
    let o = 0;
    let from = 0;
    this.members.forEach((m, k) => {
      o += text.copy(out, o, from, m - (k % PAD_CYCLE));
      from = m + width;
    });
    o += text.copy(out, o, from);
    return out.subarray(0, o);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}

const OPEN_BRACE = 0x7b;
/** Raw deflate ending on a sync flush: byte-aligned and not final, so a request can go on after it. */
const SPLICED_OPTIONS = { ...GZIP_OPTIONS, finishFlush: zlibConstants.Z_SYNC_FLUSH };
const SPACE = 0x20;
/**
 * Event i of a row has i % PAD_CYCLE spaces between its "{" and its stamp member. At level 1
 * the compressor does not index the places inside a long match: with the member at the same
 * place in every event, one match ran over it event after event, the places of the slots fell
 * out of the 32 KiB window, and most rows of 250 events failed the check. The pads end a match
 * right before the member in most events, so the compressor looks the slot up again there.
 */
const PAD_CYCLE = 4;

/**
 * A spliced row's header: a first byte no gzip member (0x1f) nor raw deflate stream (block
 * type 3 is reserved) starts with, the form's version, then the fields of SplicedRow.
 */
const SPLICED_MARK = 0xff;
const SPLICED_VERSION = 2;
const HEADER_BYTES = 20;

/** A spliced row read from its stored form. */
export interface SplicedRow {
  /** Bytes of the row's text, stamps included. */
  readonly length: number;
  /** CRC-32 of the text with the placeholder in every slot. */
  readonly crc: number;
  /** What a change of every slot's time multiplies (RowBytes.slotFactor); 0 without slots. */
  readonly slotFactor: number;
  /** Bytes of each event's stamp member; 0 without slots. */
  readonly memberBytes: number;
  /** Event i has i % padCycle spaces before its member. */
  readonly padCycle: number;
  /** Where the time starts in a member, and its length. */
  readonly valueAt: number;
  readonly valueBytes: number;
  /** The text before the first slot's time (all of it before `deflated` without slots: nothing). */
  readonly prefix: Uint8Array;
  /** Raw deflate of the text after the first slot's time, with `prefix` + that time as its dictionary, ending on a sync flush. */
  readonly deflated: Uint8Array;
}

function packSpliced(text: Buffer, memberBytes: number, valueAt: number, valueBytes: number, deflated: Buffer, slotFactor = 0, prefixBytes = 0): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + prefixBytes + deflated.length);
  out[0] = SPLICED_MARK;
  out[1] = SPLICED_VERSION;
  out.writeUInt32LE(text.length, 2);
  out.writeUInt32LE(crc32(text), 6);
  out.writeUInt32LE(slotFactor, 10);
  out[14] = memberBytes;
  out[15] = valueAt;
  out[16] = valueBytes;
  out.writeUInt16LE(prefixBytes, 17);
  out[19] = PAD_CYCLE;
  text.copy(out, HEADER_BYTES, 0, prefixBytes);
  deflated.copy(out, HEADER_BYTES + prefixBytes);
  return out;
}

/** The spliced row a stored payload holds, or undefined for the other forms. */
export function readSplicedRow(stored: string | Uint8Array): SplicedRow | undefined {
  // Version 1 (no pads) was written for an hour of 2026-12-05 only, and is read still.
  if (typeof stored === 'string' || stored.length < HEADER_BYTES - 1 || stored[0] !== SPLICED_MARK || (stored[1] !== SPLICED_VERSION && stored[1] !== 1)) return undefined;
  const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const header = stored[1] === 1 ? HEADER_BYTES - 1 : HEADER_BYTES;
  const prefixBytes = b.readUInt16LE(17);
  return {
    length: b.readUInt32LE(2), crc: b.readUInt32LE(6), slotFactor: b.readUInt32LE(10),
    memberBytes: b[14]!, valueAt: b[15]!, valueBytes: b[16]!, padCycle: stored[1] === 1 ? 1 : b[19]!,
    prefix: b.subarray(header, header + prefixBytes), deflated: b.subarray(header + prefixBytes),
  };
}

/** The dictionary a spliced row's `deflated` is read with: its prefix and the first slot's time. */
export function splicedDictionary(row: SplicedRow, value: Uint8Array): Buffer {
  return Buffer.concat([row.prefix, value]);
}

/** A spliced row's text with `value` (of the row's valueBytes) as every slot's time. */
export function splicedText(row: SplicedRow, value: Uint8Array): Buffer {
  const dictionary = splicedDictionary(row, value);
  const rest = inflateRawSync(row.deflated, { dictionary, finishFlush: zlibConstants.Z_SYNC_FLUSH, chunkSize: Math.max(64, row.length - dictionary.length) });
  return Buffer.concat([dictionary, rest]);
}

/** One gzip member of `events`, each but the last followed by `separator`, one per line. */
export function packEvents(events: readonly string[], separator: string): Buffer {
  const row = new RowBytes(separator, 1024);
  for (const e of events) row.append(e);
  return row.pack();
}

/** Whether a stored payload is a gzip member, not a spliced or a legacy row. */
export function isGzipPayload(stored: string | Uint8Array): stored is Uint8Array {
  return typeof stored !== 'string' && stored.length > 2 && stored[0] === 0x1f && stored[1] === 0x8b;
}

/** Whether a stored payload can be sent as stored: a spliced row or a gzip member. */
export function isSendableAsStored(stored: string | Uint8Array): stored is Uint8Array {
  return isGzipPayload(stored) || readSplicedRow(stored) !== undefined;
}

/** The events of a stored payload, without separators nor stamp members. */
export function unpackEvents(stored: string | Uint8Array): string[] {
  if (typeof stored === 'string') return stored.split('\n');
  const spliced = readSplicedRow(stored);
  // A raw deflate stream never starts with 0x1f 0x8b (its first block type would be the reserved 3).
  const text = spliced ? splicedText(spliced, placeholder(spliced.valueBytes)) : isGzipPayload(stored) ? gunzipSync(stored) : inflateRawSync(stored);
  const lines = text.toString('utf8').split('\n');
  // An encoded event never ends with "," (JSON objects end with "}"), so a trailing one is a separator.
  for (let i = 0; i < lines.length - 1; i++) {
    const l = lines[i]!;
    if (l.endsWith(',')) lines[i] = l.slice(0, -1);
  }
  // The member is ASCII: as many characters as bytes, right after the opening brace.
  if (spliced && spliced.memberBytes > 0) for (let i = 0; i < lines.length; i++) lines[i] = '{' + lines[i]!.slice(1 + (i % spliced.padCycle) + spliced.memberBytes);
  return lines;
}
