/**
 * Builds a pipeline's processing stages (parser, mapper, encoders) from plain data, so that each
 * processing worker can build its own copy from what the main thread sends it: nothing with
 * state or connections crosses threads, and no write key leaves the main thread.
 */
import { buildParserAsync } from '../../parsers/index.js';
import type { PipelineConfig } from '../config/schema.js';
import { loadEncoder, type EncoderSpec } from '../emit/encoders.js';
import { rowBytesFor } from './chunker.js';
import { compileMapper } from '../mapping/mapping.js';
import { commonMessageDialect, CountingHooks, type ProcessStages } from './process.js';

export interface StagesSetup {
  /** The pipeline's config without its outputs. */
  readonly pipeline: Omit<PipelineConfig, 'output' | 'outputs'>;
  readonly pipelineIndex: number;
  readonly configDir: string;
  readonly host: string;
  readonly version: string;
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly encoder: EncoderSpec; readonly maxEvents: number; readonly maxBytes: number }>;
}

export async function buildStages(setup: StagesSetup): Promise<ProcessStages> {
  const p = setup.pipeline as PipelineConfig;
  const parser = await buildParserAsync(p.parser, { configDir: setup.configDir, keyPath: `pipelines[${setup.pipelineIndex}].parser` });
  const hooks = new CountingHooks();
  const outputs = await Promise.all(
    setup.outputs.map(async (o) => {
      const encoder = await loadEncoder(o.encoder);
      return { name: o.name, maxEvents: o.maxEvents, maxBytes: o.maxBytes, encoder, row: rowBytesFor(encoder, o) };
    }),
  );
  const jsonDialect = commonMessageDialect(outputs);
  const mapper = compileMapper(p, { pipelineIndex: setup.pipelineIndex, host: setup.host, version: setup.version, hooks });
  // The outputs' protocol builds the writers of its wire form from the compiled rules.
  const writers = jsonDialect === undefined ? undefined : outputs[0]?.encoder.ruleWriters?.(mapper.rules);
  return { config: p, parser, mapper, hooks, outputs, jsonDialect, writers, limits: { maxDepth: p.limits.max_depth, maxFields: p.limits.max_fields } };
}
