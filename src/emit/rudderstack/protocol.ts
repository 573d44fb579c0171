/**
 * The RudderStack and Segment HTTP API (docs/destinations.md): two protocols of one payload
 * family, differing in their limits, their gzip default and where they read `sentAt`.
 */
import type { Protocol } from '../protocol.js';
import { HTTP_PATH_OPTIONS } from '../http-options.js';
import { rudderstackOptions, segmentOptions, type RudderstackOptions } from './options.js';

const ENCODER = 'rudderstack/rudderstack-encoder.js';

async function destination(cfg: RudderstackOptions & { name: string }, now: () => number) {
  const { RudderstackDestination } = await import('./rudderstack.js');
  return new RudderstackDestination(cfg, now);
}

export const rudderstack: Protocol<typeof rudderstackOptions> = {
  type: 'rudderstack',
  options: rudderstackOptions,
  pathOptions: HTTP_PATH_OPTIONS,
  secretOptions: ['write_key'],
  encoderModule: ENCODER,
  encoderSettings: () => 'rudderstack',
  destination,
};

export const segment: Protocol<typeof segmentOptions> = {
  type: 'segment',
  options: segmentOptions,
  pathOptions: HTTP_PATH_OPTIONS,
  secretOptions: ['write_key'],
  encoderModule: ENCODER,
  encoderSettings: () => 'segment',
  destination,
};
