/**
 * Every protocol tailship speaks. Adding one is a folder under src/emit/ exporting its Protocol
 * object (protocol.ts) and a line in PROTOCOLS; the config's output union, its encoder in the
 * processing workers and its destination all come from here.
 */
import { z } from 'zod';
import { TailshipError } from '../errors.js';
import type { Destination } from './destination.js';
import { file } from './file/protocol.js';
import type { EncoderSpec } from './encoders.js';
import type { Named, OptionsSchema, Protocol, StartContext } from './protocol.js';
import { rudderstack, segment } from './rudderstack/protocol.js';
import { snowplow } from './snowplow/protocol.js';
import { stdout } from './stdout/protocol.js';

export const PROTOCOLS = [rudderstack, segment, snowplow, stdout, file] as const;

type OptionsOf<T extends readonly Protocol<OptionsSchema>[]> = { -readonly [K in keyof T]: T[K]['options'] };

/** An output in the config: the options of one of the protocols, told apart by `type`. */
export const outputSchema = z.discriminatedUnion('type', PROTOCOLS.map((p) => p.options) as unknown as OptionsOf<typeof PROTOCOLS>);

export type OutputConfig = z.output<typeof outputSchema>;

export const OUTPUT_TYPES: readonly string[] = PROTOCOLS.map((p) => p.type);

const byType = new Map<string, Protocol>(PROTOCOLS.map((p) => [p.type, p as unknown as Protocol]));

export function protocolOf(type: string): Protocol {
  const p = byType.get(type);
  if (!p) throw new TailshipError('TAILSHIP_OUTPUT_UNKNOWN', `unknown output type "${type}"; expected one of: ${OUTPUT_TYPES.join(', ')}`);
  return p;
}

/** What the output's encoder is built from in each processing worker. */
export function encoderSpec(cfg: Named<OutputConfig>, start: StartContext): EncoderSpec {
  const p = protocolOf(cfg.type);
  return { module: p.encoderModule, settings: p.encoderSettings?.(cfg, start) };
}

/** `now` is the clock send-time fields are stamped from (tests pass their own). */
export function createDestination(cfg: Named<OutputConfig>, now: () => number = Date.now): Promise<Destination> {
  return protocolOf(cfg.type).destination(cfg, now);
}
