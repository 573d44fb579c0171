/**
 * The protocol-neutral analytics event the mapper produces, shaped like a RudderStack /
 * Segment message. Each output's protocol encodes it to its own wire form (see src/emit/).
 */
import type { LogRecord, RecordValue } from '../../parsers/types.js';
import type { CallType } from './call-types.js';

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

/** An event already written as the JSON of a RudderStack / Segment message (message-json.ts). */
export interface JsonOutcome {
  readonly ok: true;
  readonly json: string;
  /** Index of the rule that made it (what `tailship tap` filters on). */
  readonly rule: number;
}

export interface Mapper {
  /** Returns the events (or mapping errors) one record makes; empty when no rule takes it or it is dropped. */
  map(record: LogRecord, meta: LineMeta): MapOutcome[];
  /**
   * The same outcomes, except that the events of rules that can be written straight to
   * RudderStack / Segment JSON come as that text, exactly `encodeMessage(event)`, with no
   * objects built, which is cheaper per event.
   */
  mapToJson(record: LogRecord, meta: LineMeta): Array<MapOutcome | JsonOutcome>;
}
