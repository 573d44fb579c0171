/** Options every HTTP protocol takes (batching, timeout, retries, TLS and proxy). */
import { z } from 'zod';
import { duration, int, size } from '../fields/fields.js';

const retrySchema = z
  .strictObject({
    base: duration('500ms', 'First retry delay; doubles each attempt, with jitter.'),
    cap: duration('30s', 'Longest delay between retries.'),
    max_retry_age: duration('0s', 'After failing this long a batch goes to dead letters (0: retry forever).'),
  })
  .prefault({});

export const httpCommon = {
  name: z.string().optional().describe('Name of this output (default: its type); unique within the pipeline.'),
  batch_size: int(250, 1, 2500, 'Events per request at most.'),
  max_batch_bytes: size(512_000, 'Uncompressed bytes per request at most.'),
  max_message_bytes: size(32_768, 'One event larger than this is a dead letter.'),
  flush_interval: duration('5s', 'Send a partial batch after waiting this long (a backlog\'s last batch leaves as soon as reading catches up).'),
  timeout: duration('10s', 'Request timeout.'),
  concurrency: int(2, 1, 64, 'Requests in flight at once.'),
  retry: retrySchema,
  ca_file: z.string().optional().describe('PEM file of extra CAs to trust.'),
  proxy: z.string().optional().describe('HTTP(S) proxy URL (default: HTTPS_PROXY from the environment).'),
};

/** Options of every HTTP protocol that name files. */
export const HTTP_PATH_OPTIONS = ['ca_file'] as const;
