/**
 * An output's encoder, built where events are processed: in each processing worker (or on the
 * main thread for a pipeline without workers), from plain data its protocol gives
 * (Protocol.encoderSettings). The module is imported by name, so a worker loads the encoder
 * alone: an HTTP client or the config schema would cost each worker's heap memory
 * (docs/decisions/0017-memory-workers-load-encoders-only-tailship-runs.md).
 */
import type { Encoder } from './destination.js';

export interface EncoderSpec {
  /** Path under src/emit/ of a module exporting `createEncoder(settings)`, e.g. "rudderstack/rudderstack-encoder.js". */
  readonly module: string;
  /** What `createEncoder` takes; copied to each worker. */
  readonly settings?: unknown;
}

const MODULE = /^(?:[a-z0-9-]+\/)?[a-z0-9-]+\.js$/;

export async function loadEncoder(spec: EncoderSpec): Promise<Encoder> {
  if (!MODULE.test(spec.module)) throw new Error(`not an encoder module: ${spec.module}`);
  // Resolved at run time, relative to this module (in src/ under the tests, in dist/ otherwise).
  const m = (await import(/* @vite-ignore */ `./${spec.module}`)) as { createEncoder(settings: unknown): Encoder };
  return m.createEncoder(spec.settings);
}
