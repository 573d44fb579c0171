/** The rudderstack and segment outputs' options (one payload family, two services' limits). */
import { z } from 'zod';
import { httpUrl, size } from '../../fields/fields.js';
import { httpCommon } from '../http-options.js';

/** The RudderStack gateway refuses (413) a request body over 4000 KiB, decompressed; keep clear of it. */
const RUDDERSTACK_MAX_REQUEST = { bytes: 4_000_000, why: 'the RudderStack gateway refuses requests over 4 MB' };
const RUDDERSTACK_MAX_MESSAGE = { bytes: 4_000_000 - 1, why: 'one message must stay below 4 MB' };
const SEGMENT_MAX_BATCH = { bytes: 512_000, why: 'Segment refuses batches over 500 KB' };
const SEGMENT_MAX_MESSAGE = { bytes: 32_768, why: 'Segment refuses messages over 32 KB' };

export const rudderstackOptions = z.strictObject({
  type: z.literal('rudderstack'),
  url: httpUrl().describe('Data plane URL; events go to {url}/v1/batch.'),
  write_key: z.string().min(1).describe('Source write key (Basic auth user). Never logged.'),
  gzip: z.boolean().default(true).describe('Compress request bodies (the RudderStack gateway accepts gzip).'),
  ...httpCommon,
  max_batch_bytes: size(512_000, 'Uncompressed bytes per request at most (up to 4 MB).', RUDDERSTACK_MAX_REQUEST),
  max_message_bytes: size(32_768, 'One event larger than this is a dead letter (below 4 MB).', RUDDERSTACK_MAX_MESSAGE),
});

export const segmentOptions = z.strictObject({
  type: z.literal('segment'),
  url: httpUrl().default('https://api.segment.io').describe('API host; e.g. https://events.eu1.segmentapis.com for EU workspaces.'),
  write_key: z.string().min(1).describe('Source write key (Basic auth user). Never logged.'),
  gzip: z.boolean().default(false).describe('Compress request bodies (Segment does not document gzip: off).'),
  ...httpCommon,
  max_batch_bytes: size(491_520, 'Uncompressed bytes per request at most (Segment refuses over 500 KB).', SEGMENT_MAX_BATCH),
  max_message_bytes: size(32_768, 'One event larger than this is a dead letter (Segment refuses over 32 KB).', SEGMENT_MAX_MESSAGE),
});

export type RudderstackOptions = z.output<typeof rudderstackOptions> | z.output<typeof segmentOptions>;
