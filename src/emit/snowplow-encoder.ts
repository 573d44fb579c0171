/**
 * Snowplow payload_data items (protocols.md §2): what the processing workers write into queue
 * rows for a Snowplow output. No connections here: this module is loaded by worker threads.
 */
import { isPlainObject } from '../../parsers/record.js';
import type { AnalyticsEvent } from '../pipeline/event.js';
import { VERSION } from '../version.js';
import type { Encoder } from './destination.js';

export const TP2_PATH = '/com.snowplowanalytics.snowplow/tp2';
export const PAYLOAD_DATA_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
export const UNSTRUCT_EVENT_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';

export const ENVELOPE_HEAD = `{"schema":"${PAYLOAD_DATA_SCHEMA}","data":[`;
export const ENVELOPE_TAIL = ']}';
/** Bytes of the envelope around the events: 88, as the trackers count it. */
export const ENVELOPE_BYTES = ENVELOPE_HEAD.length + ENVELOPE_TAIL.length;
/** `"stm":"<13 digits>",` added to each event at send time. */
export const STM_BYTES = 22;

/** payload_data items; `dtm` is the encoding time. */
export class SnowplowEncoder implements Encoder {
  /** Rows are decoded to stamp `stm` on each event at send time. */
  readonly separator = '';
  private readonly trackerVersion = `tailship-${VERSION}`;

  constructor(
    private readonly appId: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** One payload_data item, without `stm` (added per send). Every value is a string. */
  encode(ev: AnalyticsEvent): string {
    const ctx = ev.context;
    const item: Record<string, string> = { e: 'se', p: 'srv', tv: this.trackerVersion, tna: 'tailship' };
    if (this.appId !== undefined) item.aid = this.appId;
    item.eid = ev.messageId;
    // dtm: when the "device" (this shipper) made the event; ttm: when the logged thing happened.
    item.dtm = String(this.now());
    const ttm = Date.parse(ev.originalTimestamp);
    if (!Number.isNaN(ttm)) item.ttm = String(ttm);
    if (ev.userId !== undefined) item.uid = ev.userId;
    if (ev.anonymousId !== undefined) item.duid = ev.anonymousId;
    setText(item, 'ip', ctx.ip);
    setText(item, 'ua', ctx.userAgent);
    const page = isPlainObject(ctx.page) ? ctx.page : undefined;
    setText(item, 'url', page?.url);
    setText(item, 'refr', page?.referrer);

    if (ev.schema !== undefined) {
      item.e = 'ue';
      const data = (ev.type === 'identify' || ev.type === 'group' ? ev.traits : ev.properties) ?? {};
      item.ue_pr = JSON.stringify({ schema: UNSTRUCT_EVENT_SCHEMA, data: { schema: ev.schema, data } });
    } else if (ev.type === 'page') {
      item.e = 'pv';
      const props = ev.properties ?? {};
      if (item.url === undefined) setText(item, 'url', props.url);
      if (item.refr === undefined) setText(item, 'refr', props.referrer);
      setText(item, 'page', ev.name ?? props.title);
    } else {
      // Structured event: the action is the event (or name, or call type); category, label,
      // property and value come from the properties of those names when present.
      const props = ev.properties ?? ev.traits ?? {};
      item.se_ca = text(props.category) ?? ev.category ?? (ev.type === 'track' ? 'tailship' : ev.type);
      item.se_ac = ev.event ?? ev.name ?? ev.type;
      setText(item, 'se_la', props.label);
      setText(item, 'se_pr', props.property);
      const value = props.value;
      if (typeof value === 'number' && Number.isFinite(value)) item.se_va = String(value);
      else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) item.se_va = value.trim();
    }
    return JSON.stringify(item);
  }
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function setText(item: Record<string, string>, key: string, v: unknown): void {
  const t = text(v);
  if (t !== undefined) item[key] = t;
}
