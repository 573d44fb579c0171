/**
 * RudderStack / Segment messages as queue rows hold them (protocols.md §1). No connections here:
 * this module is loaded by the processing workers.
 */
import type { AnalyticsEvent } from '../pipeline/event.js';
import { encodeMessage } from '../pipeline/message-json.js';
import type { Encoder } from './destination.js';

export class RudderstackEncoder implements Encoder {
  readonly separator = ',';

  /** Events of simple rules come already written in this form (Mapper.mapToJson). */
  readonly messageJson = true;

  encode(e: AnalyticsEvent): string {
    return encodeMessage(e);
  }
}
