/** The file output's options. */
import { z } from 'zod';
import { duration, int, size } from '../../fields/fields.js';

export const fileOutputOptions = z.strictObject({
  type: z.literal('file'),
  name: z.string().optional(),
  path: z.string().min(1).describe('NDJSON file to append events to.'),
  max_file_bytes: size('100MiB', 'Rotate the file when a write would take it past this size.'),
  max_files: int(5, 1, 1000, 'Rotated files kept (<path>.1 is the newest); older ones are deleted.'),
  batch_size: int(500, 1, 100_000, 'Events written per write.'),
  flush_interval: duration('1s', 'Write a partial batch after waiting this long.'),
});

export type FileOptions = z.output<typeof fileOutputOptions>;
