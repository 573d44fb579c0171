/** The event as JSON, one per line: the stdout and file outputs' wire form. */
import type { Encoder } from './destination.js';

export const ndjsonEncoder: Encoder = { encode: (e) => JSON.stringify(e), separator: '' };

export function createEncoder(): Encoder {
  return ndjsonEncoder;
}
