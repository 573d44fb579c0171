/**
 * The protocol-neutral analytics event the mapper produces, shaped like a RudderStack /
 * Segment message, and the mapper's interface. Each output's protocol encodes events to its own
 * wire form (see src/emit/), and may build writers from the compiled rules that write them
 * straight from the record.
 */
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import type { PipelineConfig, RuleConfig } from '../config/schema.js';
import type { CallType } from './call-types.js';
import type { Scope } from './path.js';

export type JsonObject = { [key: string]: RecordValue };

export interface AnalyticsEvent {
  type: CallType;
  /** Deterministic: the same line of the same file always yields the same id (see message-id.ts). */
  messageId: string;
  /** ISO 8601 time the logged thing happened (from the record, or the read time). */
  originalTimestamp: string;
  event?: string;
  name?: string;
  category?: string;
  userId?: string;
  anonymousId?: string;
  previousId?: string;
  groupId?: string;
  properties?: JsonObject;
  traits?: JsonObject;
  context: JsonObject;
  integrations?: JsonObject;
  /** Snowplow only: the Iglu schema URI of a self-describing event, set per rule. */
  schema?: string;
  /** Snowplow only: context entities (the pipeline's, then the rule's). */
  contexts?: SelfDescribing[];
}

/** A self-describing JSON: an Iglu schema URI and data it describes. */
export interface SelfDescribing {
  schema: string;
  data: JsonObject;
}

/** Where a line came from; the mapper derives messageIds and `_file`/`_offset` fields from it. */
export interface LineMeta {
  /** Stable key of the file identity (see source/identity.ts); part of every messageId. */
  readonly fileKey: string;
  readonly file: string;
  /** Byte offset of the first byte of the line. */
  readonly offset: number;
  /** Milliseconds since epoch when the line was read; the fallback timestamp. */
  readonly readAtMs: number;
}

export type MapOutcome =
  | { readonly ok: true; readonly event: AnalyticsEvent; readonly rule: number }
  /** A mapping error: becomes a dead letter with this reason, never a sent event. */
  | { readonly ok: false; readonly reason: string; readonly rule: number };

/** An event an output's writer wrote straight from the record, in that output's wire form. */
export interface WrittenOutcome {
  readonly ok: true;
  /** The event's text, exactly what the output's encoder makes of the event object. */
  readonly json: string;
  /** Index of the rule that made it (what `tailship tap` filters on). */
  readonly rule: number;
}

/**
 * Writes one event of a rule straight from the record (`s`) in an output's wire form, with no
 * event object built, or returns undefined to leave the event to the object path (which then
 * makes it, or its dead letter). `index` is the event's index among those its line made.
 */
export type RuleWriter = (s: Scope, meta: LineMeta, index: number) => string | undefined;

/** Writers by rule index; a rule without one goes through the event object. */
export type RuleWriters = ReadonlyArray<RuleWriter | undefined>;

/** What the mapper has compiled of one rule, for an output's protocol to build a writer from. */
export interface RuleRuntime {
  readonly index: number;
  readonly config: RuleConfig;
  /** Config path of the rule (`pipelines[0].events[2]`), for errors. */
  readonly path: string;
  readonly type: CallType;
  /** The anonymousId `anonymous_id_from` makes, or undefined. */
  anonymousFrom(s: Scope): string | undefined;
  /** The event time (calls the mapping hooks' fallback when it falls back to the read time). */
  time(meta: LineMeta): string;
  messageId(meta: LineMeta, index: number): string;
}

/**
 * A pipeline's rules as compiled: their config and the parts of the object path a writer must
 * share to write the same events. Knows no wire form; a protocol builds writers from it.
 */
export interface CompiledRules {
  readonly pipeline: PipelineConfig;
  /** Config path of the pipeline (`pipelines[0]`). */
  readonly path: string;
  /**
   * Redaction, hashing or enrichment change events after their fields are rendered: a writer
   * of the rendered fields would differ from the object path.
   */
  readonly rewritesEvents: boolean;
  /** `context.library`, the last member of every event's context. */
  readonly library: { readonly name: string; readonly version: string };
  readonly rules: readonly RuleRuntime[];
}

export interface Mapper {
  /** Returns the events (or mapping errors) one record makes; empty when no rule takes it or it is dropped. */
  map(record: LogRecord, meta: LineMeta): MapOutcome[];
  /**
   * The same outcomes, except that the events of rules with a writer that writes them come as
   * that text, with no objects built, which is cheaper per event.
   */
  mapWith(record: LogRecord, meta: LineMeta, writers: RuleWriters | undefined): Array<MapOutcome | WrittenOutcome>;
  /** The compiled rules, from which an output's protocol builds its writers. */
  readonly rules: CompiledRules;
}
