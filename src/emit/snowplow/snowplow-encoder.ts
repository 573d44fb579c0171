/**
 * Snowplow payload_data items (docs/destinations.md, Snowplow): what the processing workers
 * write into queue rows for a Snowplow output, one JSON object of strings per event, checked
 * against its Iglu schemas first. No connections here: this module is loaded by worker threads.
 */
import { isPlainObject } from '../../../parsers/record.js';
import type { AnalyticsEvent, JsonObject, SelfDescribing } from '../../mapping/event.js';
import { VERSION } from '../../version.js';
import { EncodeRefusal, type Encoder } from '../destination.js';
import { IgluChecker, type SchemaSet } from './iglu-check.js';
import { timeStamp, type SendStamp } from '../send-stamp.js';

export const TP2_PATH = '/com.snowplowanalytics.snowplow/tp2';
export const GET_PATH = '/i';
export const PAYLOAD_DATA_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
export const UNSTRUCT_EVENT_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
export const CONTEXTS_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';
/** What the trackers' screen view (node-tracker 4.8 `buildScreenView`) sends. */
export const SCREEN_VIEW_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0';

export const ENVELOPE_HEAD = `{"schema":"${PAYLOAD_DATA_SCHEMA}","data":[`;
export const ENVELOPE_TAIL = ']}';
/** Bytes of the envelope around the events: 88, as the trackers count it. */
export const ENVELOPE_BYTES = ENVELOPE_HEAD.length + ENVELOPE_TAIL.length;
/** `"stm":"<13 digits>",` added to each event at each attempt (send-stamp.ts). */
export const STM: SendStamp = timeStamp('stm', (nowMs) => String(nowMs), 13);

export interface SnowplowEncoding {
  readonly appId?: string | undefined;
  readonly method: 'post' | 'get';
  /** `ue_px`/`cx` (base64url, as the JavaScript trackers write it) rather than `ue_pr`/`co`. */
  readonly base64: boolean;
  readonly maxGetBytes: number;
  /** Resolved Iglu schemas (emit/snowplow/iglu.ts); data of a schema not in here is not checked. */
  readonly schemas: SchemaSet;
}

export const DEFAULT_ENCODING: SnowplowEncoding = { method: 'post', base64: true, maxGetBytes: 40_000, schemas: {} };

/** The GET query string of a stored item, `stm` first as the JavaScript tracker writes it. */
export function queryString(item: Readonly<Record<string, string>>, stm: number): string {
  let q = `?stm=${stm}`;
  for (const k of Object.keys(item)) q += `&${k}=${encodeURIComponent(item[k]!)}`;
  return q;
}

/** payload_data items; `dtm` is when the event was encoded (the tracker's "created" time), `ttm` the log time. */
export class SnowplowEncoder implements Encoder {
  /** Rows are decoded to stamp `stm` on each event at send time. */
  readonly separator = '';
  private readonly trackerVersion = `tailship-${VERSION}`;
  private readonly checker: IgluChecker;

  constructor(
    private readonly encoding: SnowplowEncoding = DEFAULT_ENCODING,
    private readonly now: () => number = Date.now,
  ) {
    this.checker = new IgluChecker(encoding.schemas);
  }

  /**
   * One payload_data item, without `stm` (added per send). Every value is a string. Throws
   * EncodeRefusal when the event's data or an entity fails its schema, or a GET would be too long.
   */
  encode(ev: AnalyticsEvent): string {
    const ctx = ev.context;
    const item: Record<string, string> = { e: 'se', p: 'srv', tv: this.trackerVersion, tna: 'tailship' };
    if (this.encoding.appId !== undefined) item.aid = this.encoding.appId;
    item.eid = ev.messageId;
    // The Go tracker sends both: dtm when it made the event, ttm when the logged thing happened.
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

    const selfDescribing = this.selfDescribing(ev);
    if (selfDescribing) {
      item.e = 'ue';
      this.checked(selfDescribing, 'event');
      this.setJson(item, 'ue_px', 'ue_pr', { schema: UNSTRUCT_EVENT_SCHEMA, data: selfDescribing });
    } else if (ev.type === 'page') {
      item.e = 'pv';
      const props = ev.properties ?? {};
      if (item.url === undefined) setText(item, 'url', props.url);
      if (item.refr === undefined) setText(item, 'refr', props.referrer);
      setText(item, 'page', ev.name ?? props.title);
    } else if (ev.type === 'track') {
      // Structured event: the action is the event; category, label, property and value come
      // from the properties of those names when present.
      const props = ev.properties ?? {};
      item.se_ca = text(props.category) ?? ev.category ?? 'tailship';
      item.se_ac = ev.event ?? ev.type;
      setText(item, 'se_la', props.label);
      setText(item, 'se_pr', props.property);
      const value = props.value;
      if (typeof value === 'number' && Number.isFinite(value)) item.se_va = String(value);
      else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) item.se_va = value.trim();
    } else {
      // The config refuses identify/group/alias rules without a schema for Snowplow outputs.
      throw new EncodeRefusal(`a ${ev.type} event needs a schema for Snowplow (it has no ${ev.type} event)`);
    }
    // Contexts last: the trackers put them at the end of a GET query, the part a proxy cuts first.
    if (ev.contexts?.length) {
      ev.contexts.forEach((c, i) => this.checked(c, `contexts[${i}]`));
      this.setJson(item, 'cx', 'co', { schema: CONTEXTS_SCHEMA, data: ev.contexts });
    }
    const json = JSON.stringify(item);
    if (this.encoding.method === 'get') {
      const bytes = Buffer.byteLength(queryString(item, 1e12)); // stm has 13 digits until 2286
      if (bytes > this.encoding.maxGetBytes) throw new EncodeRefusal(`GET query string of ${bytes} bytes is over max_get_bytes (${this.encoding.maxGetBytes})`);
    }
    return json;
  }

  /** The event's self-describing JSON: a rule's schema, or the screen view of a screen call. */
  private selfDescribing(ev: AnalyticsEvent): SelfDescribing | undefined {
    if (ev.schema !== undefined) {
      const data = (ev.type === 'identify' || ev.type === 'group' ? ev.traits : ev.properties) ?? {};
      return { schema: ev.schema, data };
    }
    if (ev.type === 'screen') {
      // screen_view 1-0-0 takes `name` and `id` alone, as the trackers' screen view sends them.
      const data: JsonObject = {};
      if (ev.name !== undefined) data.name = ev.name;
      const id = text(ev.properties?.id);
      if (id !== undefined) data.id = id;
      if (data.name === undefined && data.id === undefined) throw new EncodeRefusal('a screen view needs `name` or `properties.id` (screen_view takes nothing else)');
      return { schema: SCREEN_VIEW_SCHEMA, data };
    }
    return undefined;
  }

  private checked(sd: SelfDescribing, where: string): void {
    const why = this.checker.check(sd.schema, sd.data);
    if (why !== undefined) throw new EncodeRefusal(`${where} fails ${why}`);
  }

  private setJson(item: Record<string, string>, base64Key: string, plainKey: string, value: object): void {
    const json = JSON.stringify(value);
    if (this.encoding.base64) item[base64Key] = Buffer.from(json, 'utf8').toString('base64url');
    else item[plainKey] = json;
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

/** Built in each processing worker from the output's encoding options and Iglu schemas (protocol.ts). */
export function createEncoder(encoding: SnowplowEncoding): Encoder {
  return new SnowplowEncoder(encoding);
}
