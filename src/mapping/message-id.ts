/**
 * Deterministic message ids: the same line (pipeline, file identity, byte offset, index of the
 * event the line made) always gives the same id, so a collector that dedups on messageId sees a
 * replayed line once. The id is an RFC 9562 UUIDv8: 64 bits of a SHA-256 of (pipeline, fileKey),
 * computed once per file, then the line's offset (48 bits) and event index (14 bits). Per event
 * this is a few string operations, not a hash (a UUIDv5 per event costs a SHA-1 each).
 */
import { createHash } from 'node:crypto';

export type MessageIdFactory = (offset: number, index: number) => string;

const MAX_OFFSET = 2 ** 48;
const MAX_INDEX = 2 ** 14;

export function messageIdFactory(pipeline: string, fileKey: string): MessageIdFactory {
  const h = createHash('sha256').update(pipeline).update('\0').update(fileKey).digest('hex');
  // xxxxxxxx-xxxx-8xxx-: 12 hex of hash, version nibble 8, 3 more hex of hash.
  const prefix = `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(12, 15)}-`;
  return (offset: number, index: number): string => {
    if (offset < 0 || offset >= MAX_OFFSET || index < 0 || index >= MAX_INDEX) {
      throw new RangeError(`messageId out of range: offset ${offset}, index ${index}`);
    }
    // 64 bits: variant "10", then 14 bits of index, then 48 bits of offset.
    const hi = 0x8000 | index; // 16 bits: 10 + 14-bit index
    const off = offset.toString(16).padStart(12, '0');
    return prefix + hi.toString(16) + '-' + off;
  };
}
