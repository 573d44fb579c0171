/**
 * One gzip stream for a request, made of spliced queue rows (store/payload.ts) without
 * compressing anything: the head, each row's text up to its first slot's time and that time go
 * in stored (uncompressed) deflate blocks, each row's deflate follows as it was stored (byte
 * aligned, not final, and its later slots copies of the first, so every message carries the
 * time), the tail goes in the final stored block. The CRC-32 of the whole text is put together
 * from each row's stored CRC, corrected for the time written into its slots
 * (store/crc32-algebra.ts). See docs/decisions/0030-send-time-stamps-spliced-into-stored-deflate.md.
 */
import { crc32 } from 'node:zlib';
import { crc32Combine, crc32Linear, mulMod } from '../store/crc32-algebra.js';
import { placeholder, readSplicedRow, type SplicedRow } from '../store/payload.js';
import { fitsStamp, stampValue, type SendStamp } from './send-stamp.js';

/** ID1 ID2, deflate, no flags, no time, no extra flags, OS unknown (RFC 1952). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
const STORED_HEADER_BYTES = 5;
const MAX_STORED_BYTES = 0xffff;

/**
 * The gzip body `head + rows joined by between + tail` with the stamp's time at `nowMs` in every
 * message, or undefined when a row is not spliced for this stamp (rows queued by an earlier
 * version, or that failed the check when packed): those requests are built by stampedRows.
 */
export function splicedGzip(rows: readonly Uint8Array[], stamp: SendStamp | undefined, nowMs: number, head: Buffer, between: Buffer, tail: Buffer): Buffer | undefined {
  const value = stamp ? stampValue(stamp, nowMs) : EMPTY;
  if (!value || rows.length === 0) return undefined;
  const spliced: SplicedRow[] = [];
  for (const r of rows) {
    const s = readSplicedRow(r);
    if (!s || !fitsStamp(s, stamp)) return undefined;
    spliced.push(s);
  }
  // What writing the time over the placeholder changes in a row's CRC, before the slot factor.
  const change = stamp ? crc32Linear(xor(value, placeholder(value.length))) : 0;
  let size = GZIP_HEADER.length + 8;
  let textBytes = head.length + tail.length + between.length * (spliced.length - 1);
  const leads: Buffer[] = [];
  spliced.forEach((s, i) => {
    const lead = Buffer.concat([i === 0 ? head : between, s.prefix, s.memberBytes ? value : EMPTY]);
    if (lead.length > MAX_STORED_BYTES) throw new Error('a row prefix longer than a stored block');
    leads.push(lead);
    size += STORED_HEADER_BYTES + lead.length + s.deflated.length;
    textBytes += s.length;
  });
  size += STORED_HEADER_BYTES + tail.length;

  const out = Buffer.allocUnsafe(size);
  let o = GZIP_HEADER.copy(out, 0);
  let crc = crc32(head);
  spliced.forEach((s, i) => {
    o = stored(out, o, leads[i]!, false);
    o += Buffer.from(s.deflated.buffer, s.deflated.byteOffset, s.deflated.byteLength).copy(out, o);
    if (i > 0) crc = crc32(between, crc);
    const rowCrc = s.memberBytes ? (s.crc ^ mulMod(change, s.slotFactor)) >>> 0 : s.crc;
    crc = crc32Combine(crc, rowCrc, s.length);
  });
  o = stored(out, o, tail, true);
  crc = crc32(tail, crc);
  out.writeUInt32LE(crc >>> 0, o);
  out.writeUInt32LE(textBytes % 2 ** 32, o + 4);
  return out;
}

const EMPTY = Buffer.alloc(0);

/** A stored deflate block of `bytes` at `o` (the stream is byte-aligned there); the offset after it. */
function stored(out: Buffer, o: number, bytes: Buffer, final: boolean): number {
  out[o] = final ? 1 : 0;
  out.writeUInt16LE(bytes.length, o + 1);
  out.writeUInt16LE(~bytes.length & 0xffff, o + 3);
  return o + STORED_HEADER_BYTES + bytes.copy(out, o + STORED_HEADER_BYTES);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
