/**
 * URLs split into their parts: the `url` function (`{{ http_referer | url }}`) and the
 * referrer enrichment. The query is decoded by parsers/query-string.ts, as the access-log
 * parsers decode their `query` field.
 */
import { parseQuery } from '../../parsers/query-string.js';
import type { RecordValue } from '../../parsers/types.js';

/** Splits a URL (absolute, or a path such as `/a/b?x=1`) into its parts; repeated query keys become arrays. */
export function splitUrl(text: string): { [key: string]: RecordValue } | undefined {
  let u: URL;
  let relative = false;
  try {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) u = new URL(text);
    else {
      u = new URL(text, 'http://relative.invalid');
      relative = true;
    }
  } catch {
    return undefined;
  }
  const out: { [key: string]: RecordValue } = {};
  if (!relative) {
    out.scheme = u.protocol.slice(0, -1);
    out.host = u.hostname;
    if (u.port) out.port = Number(u.port);
  }
  out.path = u.pathname;
  out.search = u.search;
  out.query = parseQuery(u.search.slice(1));
  if (u.hash) out.fragment = u.hash.slice(1);
  out.url = relative ? u.pathname + u.search + u.hash : u.href;
  return out;
}
