/** File: events as NDJSON appended to a file, rotated by size. */
import type { Protocol } from '../protocol.js';
import { fileOutputOptions } from './options.js';

export const file: Protocol<typeof fileOutputOptions> = {
  type: 'file',
  options: fileOutputOptions,
  pathOptions: ['path'],
  encoderModule: 'ndjson-encoder.js',
  async destination(cfg) {
    const { FileDestination } = await import('./file.js');
    return new FileDestination(cfg);
  },
};
