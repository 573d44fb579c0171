/**
 * Checks a mapped event against the rules of its call type (docs/protocols/rudderstack-segment.md,
 * Message types) before it is queued: track needs `event`; group needs `groupId`; alias needs `userId` and `previousId`;
 * every other call needs `userId` or `anonymousId`; ids, `event`, `name`, `category` are
 * strings; `properties`, `traits`, `context`, `integrations` are objects. An invalid event
 * becomes a value `{ ok: false, reason, rule }` (a dead letter), never an exception.
 */
import { isPlainObject } from '../../parsers/record.js';
import type { AnalyticsEvent, MapOutcome } from './event.js';

const STRING_FIELDS = ['event', 'name', 'category', 'userId', 'anonymousId', 'previousId', 'groupId'] as const;
const OBJECT_FIELDS = ['properties', 'traits', 'context', 'integrations'] as const;

function present(v: unknown): boolean {
  return typeof v === 'string' && v !== '';
}

/** Why `event` is invalid for its type, or undefined when it is valid. */
export function invalidReason(event: AnalyticsEvent): string | undefined {
  const e = event as unknown as Record<string, unknown>;
  for (const f of STRING_FIELDS) {
    const v = e[f];
    if (v !== undefined && typeof v !== 'string') return `"${f}" must be a string, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v}`;
  }
  for (const f of OBJECT_FIELDS) {
    const v = e[f];
    if (v !== undefined && !isPlainObject(v)) return `"${f}" must be an object, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v}`;
  }
  switch (event.type) {
    case 'track':
      if (!present(event.event)) return '"event" is required for track (missing or empty)';
      break;
    case 'group':
      if (!present(event.groupId)) return '"groupId" is required for group (missing or empty)';
      break;
    case 'alias':
      if (!present(event.userId)) return '"userId" is required for alias (missing or empty)';
      if (!present(event.previousId)) return '"previousId" is required for alias (missing or empty)';
      break;
    default:
      break;
  }
  if (!present(event.userId) && !present(event.anonymousId)) return '"userId" or "anonymousId" is required (both missing or empty)';
  return undefined;
}

/** The event as an outcome: ok, or a dead letter whose reason names the rule index and the field. */
export function validateEvent(event: AnalyticsEvent, rule: number): MapOutcome {
  const why = invalidReason(event);
  if (why === undefined) return { ok: true, event, rule };
  return { ok: false, reason: `rule ${rule} (${event.type}): ${why}`, rule };
}
