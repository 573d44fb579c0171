/** The stdout output's options. */
import { z } from 'zod';
import { duration, int } from '../../fields/fields.js';

export const stdoutOptions = z.strictObject({
  type: z.literal('stdout'),
  name: z.string().optional(),
  batch_size: int(500, 1, 100_000, 'Events written per write.'),
  flush_interval: duration('200ms', 'Write a partial batch after waiting this long.'),
});

export type StdoutOptions = z.output<typeof stdoutOptions>;
