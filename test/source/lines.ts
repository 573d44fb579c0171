/** Test helper: a fixture file framed into Lines with exact byte offsets (as the framer does). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Line } from '../../src/source/line.js';

export const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/parsers');

export function frame(content: string): Line[] {
  const out: Line[] = [];
  let offset = 0;
  for (const text of content.split('\n')) {
    const bytes = Buffer.byteLength(text) + 1;
    if (offset + bytes > Buffer.byteLength(content) + 0 && text === '') break;
    out.push({ text, start: offset, end: offset + bytes });
    offset += bytes;
  }
  return out;
}

export function frameFixture(name: string): Line[] {
  return frame(readFileSync(path.join(fixturesDir, name), 'utf8'));
}
