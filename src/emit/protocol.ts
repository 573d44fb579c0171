/**
 * What a protocol is to tailship: its options in the config, where its encoder is built from,
 * and its destination (request building, sending, answer classification). Each protocol lives
 * in its own folder under src/emit/ and exports one such object, listed in registry.ts.
 */
import type { z } from 'zod';
import type { Destination } from './destination.js';
import type { SchemaSet } from './snowplow/iglu-check.js';

/** An output's options after parsing, with the name tailship gives it (config/load.ts pipelineOutputs). */
export type Named<T> = T & { readonly name: string };

/** What is known when a pipeline starts, beside its outputs' options. */
export interface StartContext {
  /** The Iglu schemas the pipeline's events name, resolved from the registries (snowplow/iglu.ts). */
  readonly schemas: SchemaSet;
}

/** The parts of a mapping rule a protocol may have requirements on. */
export interface RuleShape {
  readonly type?: string | undefined;
  readonly drop: boolean;
  readonly schema?: string | undefined;
}

/** A rule this protocol cannot send, located within the pipeline (e.g. ['events', 2, 'schema']). */
export interface RuleProblem {
  readonly path: ReadonlyArray<string | number>;
  readonly message: string;
}

/** Any output options schema: a strict object whose `type` is the protocol's name as a literal. */
export type OptionsSchema = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape>;

export interface Protocol<S extends OptionsSchema = OptionsSchema> {
  /** The output's `type` in the config. */
  readonly type: z.output<S>['type'];
  /** Its options (help texts feed docs/configuration.md). */
  readonly options: S;
  /** Options naming files: resolved against the config file's directory. */
  readonly pathOptions?: readonly string[];
  /** Options holding secrets: scrubbed from every log line, answer and command output. */
  readonly secretOptions?: readonly string[];
  /** What a pipeline with this output must not hold (checked with the config). */
  checkRules?(rules: readonly RuleShape[]): RuleProblem[];
  /**
   * Its encoder's module, under src/emit/, exporting `createEncoder(settings)`: each processing
   * worker imports it alone, so it must load no HTTP client and no config schema.
   */
  readonly encoderModule: string;
  /** What `createEncoder` takes (copied to each worker): plain data, never a write key. */
  encoderSettings?(cfg: Named<z.output<S>>, start: StartContext): unknown;
  /** Its destination, with its connections; the transport is loaded only here. */
  destination(cfg: Named<z.output<S>>, now: () => number): Promise<Destination>;
}
