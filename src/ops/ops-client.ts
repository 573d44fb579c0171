/**
 * How `tailship top` and `tailship tap` reach a daemon's ops server: --url, else the
 * `server.listen` of the config (--config or TAILSHIP_CONFIG) when one is given, else
 * 127.0.0.1:9464; the token from --token, else TAILSHIP_OPS_TOKEN, else the config's
 * `server.auth_token`. Through a forwarded port (ssh -L, kubectl port-forward) from any host.
 */
import type { LoadedConfig } from '../config/load.js';
import { TailshipError } from '../errors.js';
import { parseListen } from './server.js';

export interface OpsTarget {
  readonly base: string;
  readonly token: string | undefined;
}

export interface OpsClientOptions {
  url?: string | undefined;
  token?: string | undefined;
  /** The config, when one was given or TAILSHIP_CONFIG is set. */
  config?: LoadedConfig | undefined;
}

export const DEFAULT_OPS_URL = 'http://127.0.0.1:9464';

export function opsTarget(o: OpsClientOptions): OpsTarget {
  let base = o.url;
  if (!base && o.config?.config.server) {
    const { host, port } = parseListen(o.config.config.server.listen);
    const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    base = `http://${h}:${port}`;
  }
  base ??= DEFAULT_OPS_URL;
  if (!/^https?:\/\//.test(base)) base = `http://${base}`;
  try {
    new URL(base);
  } catch {
    throw new TailshipError('TAILSHIP_USAGE', `--url: not a URL: ${JSON.stringify(o.url)} (expected e.g. http://127.0.0.1:9464)`);
  }
  return { base: base.replace(/\/+$/, ''), token: o.token || process.env.TAILSHIP_OPS_TOKEN || o.config?.config.server?.auth_token || undefined };
}

/** GET a path of the ops server; throws a TailshipError that says what went wrong. */
export async function opsGet(t: OpsTarget, path: string, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(t.base + path, { headers: t.token ? { authorization: `Bearer ${t.token}` } : {}, signal: signal ?? AbortSignal.timeout(5_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new TailshipError('TAILSHIP_OPS_UNREACHABLE', `cannot reach the daemon's ops server at ${t.base} (${cause}): is it running with a \`server\` section? (--url to point elsewhere)`);
  }
  if (res.status === 401) throw new TailshipError('TAILSHIP_OPS_UNAUTHORIZED', `${t.base} asks for its auth token: pass --token or set TAILSHIP_OPS_TOKEN`);
  if (!res.ok) {
    const body = await res.text().catch(() => '');
    let msg = body;
    try {
      msg = (JSON.parse(body) as { error?: string }).error ?? body;
    } catch {
      // not JSON: the text as it is
    }
    throw new TailshipError('TAILSHIP_OPS_ERROR', `${t.base}${path.split('?')[0]}: ${res.status} ${msg.trim()}`);
  }
  return res;
}
