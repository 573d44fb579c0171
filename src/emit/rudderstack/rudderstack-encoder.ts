/**
 * RudderStack / Segment messages as queue rows hold them (docs/protocols/rudderstack-segment.md). No connections here:
 * this module is loaded by the processing workers.
 */
import type { AnalyticsEvent, CompiledRules, RuleWriters } from '../../mapping/event.js';
import { encodeMessage, type MessageDialect } from './message-json.js';
import { messageWriters } from './message-writer.js';
import type { Encoder } from '../destination.js';
import { isoTimeStamp, type SendStamp } from '../send-stamp.js';

/** RudderStack's `sentAt`, stamped into each message at each attempt (rudderstack.ts). */
export const SENT_AT: SendStamp = isoTimeStamp('sentAt');

export class RudderstackEncoder implements Encoder {
  readonly separator = ',';

  readonly sendStamp: SendStamp | undefined;
  /** Sent as stored by rudderstack.ts, stamped without decompressing. */
  readonly splicedRows = true;

  constructor(readonly messageJson: MessageDialect) {
    this.sendStamp = messageJson === 'rudderstack' ? SENT_AT : undefined;
  }

  encode(e: AnalyticsEvent): string {
    return encodeMessage(e, this.messageJson);
  }

  /** Events of simple rules are written in this form straight from the record (message-writer.ts). */
  ruleWriters(rules: CompiledRules): RuleWriters {
    return messageWriters(rules, this.messageJson);
  }
}

/** Built in each processing worker from the output's dialect (protocol.ts). */
export function createEncoder(dialect: MessageDialect): Encoder {
  return new RudderstackEncoder(dialect);
}
