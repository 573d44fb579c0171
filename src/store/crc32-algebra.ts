/**
 * CRC-32 (gzip's) arithmetic without the bytes: the CRC of a concatenation from the parts' CRCs,
 * and how a CRC changes when equal-length bytes at known places change. A CRC is a polynomial
 * over GF(2) modulo gzip's generator; values are zlib's reflected form, where bit 31 is x^0.
 * Spliced rows (payload.ts) and the gzip streams built from them (emit/spliced-gzip.ts) rely on it.
 */
import { crc32 } from 'node:zlib';

const POLY = 0xedb88320;
/** The polynomial 1 (x^0) in the reflected form. */
export const ONE = 0x80000000;

/** a(x)·b(x) modulo the generator. */
export function mulMod(a: number, b: number): number {
  if (a === 0) return 0;
  let m = ONE;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) for k = 0..31, by squaring. */
const X2N: number[] = [];
for (let k = 0, p = ONE >>> 1; k < 32; k++, p = mulMod(p, p)) X2N.push(p);

/** x^(8·n) modulo the generator: what `n` zero bytes after a message multiply its CRC part by. */
export function xPow8(n: number): number {
  if (n < SMALL) return smallPow8(n);
  let p = ONE;
  for (let k = 3; n > 0; n = Math.floor(n / 2), k++) if (n % 2) p = mulMod(X2N[k & 31]!, p);
  return p;
}

/**
 * Σ x^(8·z) over `zs`, given largest first (the bytes after each slot of a row, in the row's
 * order): a table lookup each, and one multiplication per 64 KiB of distance.
 */
export function sumXPow8(zs: readonly number[]): number {
  let sum = 0;
  let group = -1;
  let acc = 0;
  for (const z of zs) {
    const g = Math.floor(z / SMALL);
    if (g !== group) {
      if (group >= 0) sum ^= mulMod(xPow8(group * SMALL), acc);
      group = g;
      acc = 0;
    }
    acc ^= smallPow8(z - g * SMALL);
  }
  if (group >= 0) sum ^= mulMod(xPow8(group * SMALL), acc);
  return sum >>> 0;
}

/** x^(8·n) for n < 64 Ki, filled on demand: each is the one before through a zero byte of CRC. */
const SMALL = 1 << 16;
const pow8 = new Uint32Array(SMALL);
let pow8Known = 1;
pow8[0] = ONE;
function smallPow8(n: number): number {
  if (n >= pow8Known) {
    for (let i = pow8Known; i <= n; i++) {
      const p = pow8[i - 1]!;
      pow8[i] = BYTE_STEP[p & 0xff]! ^ (p >>> 8);
    }
    pow8Known = n + 1;
  }
  return pow8[n]!;
}

/** CRC-32's byte table: a value times x^8, for its low byte (the rest shifts down). */
const BYTE_STEP = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  BYTE_STEP[n] = c;
}

/** The CRC-32 of A followed by B, from crc32(A), crc32(B) and B's length (zlib's crc32_combine). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (mulMod(xPow8(lengthB), crcA) ^ crcB) >>> 0;
}

/**
 * The linear part of the CRC-32 of `bytes` (no initial value, no final xor): XORed into a text's
 * CRC, it is what changes when `bytes` are XORed into the text's last bytes; earlier places
 * multiply it by xPow8 of the bytes after them.
 */
export function crc32Linear(bytes: Uint8Array): number {
  return (crc32(bytes) ^ crc32(new Uint8Array(bytes.length))) >>> 0;
}
