/**
 * Output `type` → its encoder alone, for the processing workers: this module and what it imports
 * hold no HTTP client, which would cost each worker's heap memory (docs/decisions/0017-memory-workers-load-encoders-only-tailship-runs.md).
 */
import { ndjsonEncoder, type Encoder } from './destination.js';
import { RudderstackEncoder } from './rudderstack/rudderstack-encoder.js';
import { SnowplowEncoder, type SnowplowEncoding } from './snowplow/snowplow-encoder.js';

/** What an encoder needs of an output's config (no write keys: it goes to worker threads). */
export interface EncoderConfig {
  readonly type: string;
  /** Snowplow outputs: their options and the Iglu schemas resolved at start. */
  readonly snowplow?: SnowplowEncoding | undefined;
}

/** The output's encoder alone, without its connections (for the processing workers). */
export function createEncoder(cfg: EncoderConfig): Encoder {
  switch (cfg.type) {
    case 'rudderstack':
    case 'segment':
      return new RudderstackEncoder(cfg.type);
    case 'snowplow':
      return new SnowplowEncoder(cfg.snowplow);
    default:
      return ndjsonEncoder;
  }
}
