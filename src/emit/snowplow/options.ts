/** The snowplow output's options (tracker protocol, POST or GET). */
import { z } from 'zod';
import { httpUrl, size } from '../../fields/fields.js';
import { httpCommon } from '../http-options.js';

export const snowplowOptions = z.strictObject({
  type: z.literal('snowplow'),
  url: httpUrl().describe('Collector URL; events go to {url}/com.snowplowanalytics.snowplow/tp2.'),
  app_id: z.string().optional().describe('Snowplow `aid`.'),
  method: z.enum(['post', 'get']).default('post').describe('post: batches to {url}/com.snowplowanalytics.snowplow/tp2; get: one event per request to {url}/i, URL-encoded.'),
  base64: z.boolean().default(true).describe('Self-describing data and contexts base64url-encoded in `ue_px`/`cx` (the trackers\' default), or as JSON text in `ue_pr`/`co`.'),
  max_get_bytes: size(40_000, 'With method get: an event whose query string would be longer is a dead letter (the Go tracker\'s limit).'),
  ...httpCommon,
  max_batch_bytes: size(40_000, 'Bytes per request at most (the trackers use 40000).'),
});

export type SnowplowOptions = z.output<typeof snowplowOptions>;
