/** How many gzip members a body is made of (RFC 1952 §2.2): a reader of the first member alone needs 1. */
import { inflateRawSync } from 'node:zlib';

export function gzipMembers(body: Buffer): number {
  let members = 0;
  for (let at = 0; at < body.length; members++) {
    if (body[at] !== 0x1f || body[at + 1] !== 0x8b || body[at + 3] !== 0) throw new Error(`no plain gzip member header at byte ${at}`);
    // Node writes 10-byte headers without optional fields; the deflate data follows, then 8 bytes of CRC and size.
    const { engine } = inflateRawSync(body.subarray(at + 10), { info: true }) as unknown as { engine: { bytesWritten: number } };
    at += 10 + engine.bytesWritten + 8;
  }
  return members;
}
