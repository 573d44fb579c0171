/**
 * Checks a mapped event against the rules of its call type (call-types.ts) before it is queued:
 * the fields its type requires, `userId` or `anonymousId`, one-value fields are strings and
 * `properties`, `traits`, `context`, `integrations` are objects. An invalid event
 * becomes a value `{ ok: false, reason, rule }` (a dead letter), never an exception.
 */
import { isPlainObject } from '../../parsers/record.js';
import { CALL_TYPE_RULES, IDENTITY_FIELDS, OBJECT_FIELDS, SCALAR_FIELDS } from './call-types.js';
import type { AnalyticsEvent, MapOutcome } from './event.js';

function present(v: unknown): boolean {
  return typeof v === 'string' && v !== '';
}

/** Why `event` is invalid for its type, or undefined when it is valid. */
export function invalidReason(event: AnalyticsEvent): string | undefined {
  const e = event as unknown as Record<string, unknown>;
  for (const f of SCALAR_FIELDS) {
    const v = e[f];
    if (v !== undefined && typeof v !== 'string') return `"${f}" must be a string, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v}`;
  }
  for (const f of OBJECT_FIELDS) {
    const v = e[f];
    if (v !== undefined && !isPlainObject(v)) return `"${f}" must be an object, got ${Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v}`;
  }
  for (const f of CALL_TYPE_RULES[event.type].required) {
    if (!present(e[f])) return `"${f}" is required for ${event.type} (missing or empty)`;
  }
  if (!IDENTITY_FIELDS.some((f) => present(e[f]))) return `${IDENTITY_FIELDS.map((f) => `"${f}"`).join(' or ')} is required (both missing or empty)`;
  return undefined;
}

/** The event as an outcome: ok, or a dead letter whose reason names the rule index and the field. */
export function validateEvent(event: AnalyticsEvent, rule: number): MapOutcome {
  const why = invalidReason(event);
  if (why === undefined) return { ok: true, event, rule };
  return { ok: false, reason: `rule ${rule} (${event.type}): ${why}`, rule };
}
