/**
 * The call types of an analytics event and the one table of what each takes and requires
 * (docs/protocols/rudderstack-segment.md, Message types). The rule compiler (mapping.ts), the
 * validator (validate.ts) and the generated writers (src/emit/rudderstack/message-writer.ts)
 * all read it here.
 */

export type CallType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';
export const CALL_TYPES: readonly CallType[] = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

/** The one-value fields of an event, strings on the wire, in the order an event sets them. */
export const SCALAR_FIELDS = ['event', 'name', 'category', 'userId', 'anonymousId', 'previousId', 'groupId'] as const;
export type ScalarField = (typeof SCALAR_FIELDS)[number];

/** The object fields of an event. */
export const OBJECT_FIELDS = ['properties', 'traits', 'context', 'integrations'] as const;

/** The fields only some call types take; the others (userId, anonymousId, context, integrations, timestamp) all take. */
export const TYPED_FIELDS = ['event', 'name', 'category', 'previousId', 'groupId', 'properties', 'traits'] as const;
export type TypedField = (typeof TYPED_FIELDS)[number];

/** Fields of which every event needs one, non-empty. */
export const IDENTITY_FIELDS = ['userId', 'anonymousId'] as const;

export interface CallTypeRules {
  /** The typed fields this call type takes. */
  readonly fields: readonly TypedField[];
  /** Fields it needs, non-empty, in the order they are checked (besides one of IDENTITY_FIELDS). */
  readonly required: readonly ScalarField[];
}

export const CALL_TYPE_RULES: Readonly<Record<CallType, CallTypeRules>> = {
  track: { fields: ['event', 'properties'], required: ['event'] },
  identify: { fields: ['traits'], required: [] },
  page: { fields: ['name', 'category', 'properties'], required: [] },
  screen: { fields: ['name', 'category', 'properties'], required: [] },
  group: { fields: ['groupId', 'traits'], required: ['groupId'] },
  alias: { fields: ['previousId'], required: ['userId', 'previousId'] },
};
