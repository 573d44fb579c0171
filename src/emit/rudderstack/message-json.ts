/**
 * An event as the JSON of a RudderStack / Segment message (docs/protocols/rudderstack-segment.md,
 * Message types). The key order is defined once, here, for both ways an event reaches that form:
 * `encodeMessage` for an event object (the RudderStack / Segment encoder), and `writeMessage` for the mapper's generated
 * writers (message-writer.ts), which write a rule's objects as JSON text and never build them.
 */
import type { AnalyticsEvent } from '../../mapping/event.js';
import { jsonString } from './json-text.js';

/** The scalar fields of a message; an AnalyticsEvent is one. */
export type MessageScalars = Pick<
  AnalyticsEvent,
  'type' | 'messageId' | 'originalTimestamp' | 'event' | 'name' | 'category' | 'userId' | 'anonymousId' | 'previousId' | 'groupId'
>;

/**
 * Where each server reads the event time (docs/destinations.md): RudderStack's processor reads
 * `originalTimestamp` and corrects it for clock skew with the message's `sentAt`; Segment dates a
 * server-side message by its `timestamp` (analytics-node sends the event time there). The rest
 * of the message is the same for both.
 */
export type MessageDialect = 'rudderstack' | 'segment';

const TIME_KEY: Record<MessageDialect, string> = { rudderstack: ',"originalTimestamp":', segment: ',"timestamp":' };

/**
 * The message from its scalar fields and its objects' JSON. Key order is fixed for stable,
 * readable payloads; `schema` is Snowplow-only; type and messageId never need escaping.
 */
export function writeMessage(
  e: MessageScalars,
  context: string,
  properties: string | undefined,
  traits: string | undefined,
  integrations: string | undefined,
  dialect: MessageDialect,
): string {
  let out = '{"type":"' + e.type + '","messageId":"' + e.messageId + '"';
  if (e.event !== undefined) out += ',"event":' + jsonString(e.event);
  if (e.name !== undefined) out += ',"name":' + jsonString(e.name);
  if (e.category !== undefined) out += ',"category":' + jsonString(e.category);
  if (e.userId !== undefined) out += ',"userId":' + jsonString(e.userId);
  if (e.anonymousId !== undefined) out += ',"anonymousId":' + jsonString(e.anonymousId);
  if (e.previousId !== undefined) out += ',"previousId":' + jsonString(e.previousId);
  if (e.groupId !== undefined) out += ',"groupId":' + jsonString(e.groupId);
  out += TIME_KEY[dialect] + jsonString(e.originalTimestamp) + ',"channel":"server","context":' + context;
  if (properties !== undefined) out += ',"properties":' + properties;
  if (traits !== undefined) out += ',"traits":' + traits;
  if (integrations !== undefined) out += ',"integrations":' + integrations;
  return out + '}';
}

/**
 * Written as a string rather than built as an object for JSON.stringify, which costs more CPU
 * per event.
 */
export function encodeMessage(e: AnalyticsEvent, dialect: MessageDialect): string {
  const json = (o: object | undefined): string | undefined => (o === undefined ? undefined : JSON.stringify(o));
  return writeMessage(e, JSON.stringify(e.context), json(e.properties), json(e.traits), json(e.integrations), dialect);
}
