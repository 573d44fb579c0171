/**
 * Destination registry: output `type` → constructor. Adding a protocol is a destination file, an
 * encoder file, a line here and one in encoders.ts (which the processing workers load).
 */
import type { OutputConfig } from '../config/schema.js';
import type { Destination } from './destination.js';
import { FileDestination } from './file/file.js';
import { RudderstackDestination } from './rudderstack/rudderstack.js';
import { SnowplowDestination } from './snowplow/snowplow.js';
import { StdoutDestination } from './stdout/stdout.js';

type Named<T> = T & { name: string };
/** `now` is the clock send-time fields are stamped from (tests pass their own). */
type Factory = (cfg: Named<OutputConfig>, now: () => number) => Destination;

const factories = new Map<string, Factory>([
  ['rudderstack', (c, now) => new RudderstackDestination(c as Named<Extract<OutputConfig, { type: 'rudderstack' }>>, now)],
  ['segment', (c, now) => new RudderstackDestination(c as Named<Extract<OutputConfig, { type: 'segment' }>>, now)],
  ['snowplow', (c, now) => new SnowplowDestination(c as Named<Extract<OutputConfig, { type: 'snowplow' }>>, now)],
  ['file', (c) => new FileDestination(c as Named<Extract<OutputConfig, { type: 'file' }>>)],
  ['stdout', (c) => new StdoutDestination(c as Named<Extract<OutputConfig, { type: 'stdout' }>>)],
]);

export function createDestination(cfg: Named<OutputConfig>, now: () => number = Date.now): Destination {
  const f = factories.get(cfg.type);
  if (!f) throw new Error(`output type "${cfg.type}" is not implemented yet`);
  return f(cfg, now);
}
