/** Destination registry: output `type` → constructor. Adding a protocol is a file and a line here. */
import type { OutputConfig } from '../config/schema.js';
import { ndjsonEncoder, type Destination, type Encoder } from './destination.js';
import { FileDestination } from './file.js';
import { RudderstackDestination, RudderstackEncoder } from './rudderstack.js';
import { SnowplowDestination, SnowplowEncoder } from './snowplow.js';
import { StdoutDestination } from './stdout.js';

type Named<T> = T & { name: string };
type Factory = (cfg: Named<OutputConfig>) => Destination;

const factories = new Map<string, Factory>([
  ['rudderstack', (c) => new RudderstackDestination(c as Named<Extract<OutputConfig, { type: 'rudderstack' }>>)],
  ['segment', (c) => new RudderstackDestination(c as Named<Extract<OutputConfig, { type: 'segment' }>>)],
  ['snowplow', (c) => new SnowplowDestination(c as Named<Extract<OutputConfig, { type: 'snowplow' }>>)],
  ['file', (c) => new FileDestination(c as Named<Extract<OutputConfig, { type: 'file' }>>)],
  ['stdout', (c) => new StdoutDestination(c as Named<Extract<OutputConfig, { type: 'stdout' }>>)],
]);

export function createDestination(cfg: Named<OutputConfig>): Destination {
  const f = factories.get(cfg.type);
  if (!f) throw new Error(`output type "${cfg.type}" is not implemented yet`);
  return f(cfg);
}

/** What an encoder needs of an output's config (no write keys: it goes to worker threads). */
export interface EncoderConfig {
  readonly type: string;
  readonly app_id?: string | undefined;
}

/** The output's encoder alone, without its connections (for the processing workers). */
export function createEncoder(cfg: EncoderConfig): Encoder {
  switch (cfg.type) {
    case 'rudderstack':
    case 'segment':
      return new RudderstackEncoder();
    case 'snowplow':
      return new SnowplowEncoder(cfg.app_id);
    default:
      return ndjsonEncoder;
  }
}
