/**
 * Iglu schema resolution at start-up (main thread): the schemas a config's Snowplow rules name
 * are read from the registries of its `iglu` section, in order. A local registry is a
 * directory in the static-repo layout; an HTTP registry is a static one such as Iglu Central.
 * A schema version never changes once published, so a schema read over HTTP is kept in
 * {state_dir}/iglu-cache (same layout) and read from there from then on: a registry outage
 * after the first read never matters, and one before it only means those events go unchecked
 * (logged), never undelivered.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { IgluConfig, PipelineConfig } from '../../config/schema.js';
import { TailshipError } from '../../errors.js';
import { IgluChecker, type SchemaSet } from './iglu-check.js';
import { SCREEN_VIEW_SCHEMA } from './snowplow-encoder.js';

export interface Resolution {
  readonly schemas: SchemaSet;
  /** Schemas no registry could be asked for (an outage, no cached copy): their data is not checked. */
  readonly unchecked: ReadonlyArray<{ readonly uri: string; readonly reason: string }>;
  /** Where each schema came from, for `tailship validate`. */
  readonly sources: Readonly<Record<string, string>>;
}

/** `schemas/{vendor}/{name}/{format}/{version}` of an Iglu URI. */
export function schemaPath(uri: string): string {
  const m = /^iglu:([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(uri);
  if (!m) throw new TailshipError('TAILSHIP_CONFIG_INVALID', `${uri} is not an Iglu URI`);
  return `schemas/${m[1]}/${m[2]}/${m[3]}/${m[4]}`;
}

const SNOWPLOW_VENDOR = 'iglu:com.snowplowanalytics.';

type Lookup = { kind: 'found'; schema: object; source: string } | { kind: 'missing' } | { kind: 'unreachable'; reason: string };

/**
 * Resolves every URI. Throws TailshipError when a schema is in none of the registries (all
 * answered), or is not a JSON Schema: both are mistakes in the config, not outages. Snowplow's
 * own schemas are the exception: missing, they are left unchecked.
 */
export async function resolveSchemas(uris: Iterable<string>, iglu: IgluConfig | undefined, stateDir: string): Promise<Resolution> {
  const schemas: Record<string, object> = {};
  const sources: Record<string, string> = {};
  const unchecked: Array<{ uri: string; reason: string }> = [];
  if (!iglu) return { schemas, unchecked, sources };
  const cacheDir = path.join(stateDir, 'iglu-cache');
  for (const uri of new Set(uris)) {
    const rel = schemaPath(uri);
    const outages: string[] = [];
    let found: Extract<Lookup, { kind: 'found' }> | undefined;
    for (const registry of iglu.registries) {
      const r = 'path' in registry ? readLocal(registry.path, rel) : await readHttp(registry.url, rel, cacheDir, iglu.timeout);
      if (r.kind === 'found') {
        found = r;
        break;
      }
      if (r.kind === 'unreachable') outages.push(r.reason);
    }
    if (found) {
      schemas[uri] = found.schema;
      sources[uri] = found.source;
    } else if (outages.length) {
      unchecked.push({ uri, reason: outages.join('; ') });
    } else if (uri.startsWith(SNOWPLOW_VENDOR)) {
      // Snowplow's own schemas (screen_view, which tailship picks, not the config) live in Iglu
      // Central; a config with only its own registries still runs, unchecked for them.
      unchecked.push({ uri, reason: 'in none of the registries (Iglu Central has it)' });
    } else {
      throw new TailshipError('TAILSHIP_CONFIG_INVALID', `Iglu schema ${uri} is in none of the registries (${iglu.registries.map((r) => ('path' in r ? r.path : r.url)).join(', ')})`);
    }
  }
  const checker = new IgluChecker(schemas);
  for (const uri of Object.keys(schemas)) {
    try {
      checker.validator(uri);
    } catch (err) {
      throw new TailshipError('TAILSHIP_CONFIG_INVALID', `Iglu schema ${uri} (${sources[uri]}) is not a usable JSON Schema: ${(err as Error).message}`);
    }
  }
  return { schemas, unchecked, sources };
}

function readJson(file: string): object | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseSchema(text, file);
}

function parseSchema(text: string, where: string): object {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    // reported below
  }
  throw new TailshipError('TAILSHIP_CONFIG_INVALID', `${where}: not a JSON Schema (expected a JSON object)`);
}

function readLocal(dir: string, rel: string): Lookup {
  const file = path.join(dir, rel);
  const schema = readJson(file);
  return schema ? { kind: 'found', schema, source: file } : { kind: 'missing' };
}

async function readHttp(base: string, rel: string, cacheDir: string, timeoutMs: number): Promise<Lookup> {
  const url = `${base.replace(/\/+$/, '')}/${rel}`;
  const host = new URL(base).host;
  const cached = path.join(cacheDir, host, rel);
  const kept = readJson(cached);
  if (kept) return { kind: 'found', schema: kept, source: `${url} (cached)` };
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    return { kind: 'unreachable', reason: `${url}: ${e.cause?.code ?? e.name ?? 'network error'}` };
  }
  const text = await res.text();
  if (res.status === 404) return { kind: 'missing' };
  if (res.status !== 200) return { kind: 'unreachable', reason: `${url}: HTTP ${res.status}` };
  const schema = parseSchema(text, url);
  try {
    mkdirSync(path.dirname(cached), { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, cached);
  } catch {
    // Best effort: `tailship validate` may run where the state directory is not writable.
  }
  return { kind: 'found', schema, source: url };
}

/** The Iglu schemas a pipeline's events name, when it has a Snowplow output (none otherwise). */
export function pipelineSchemaUris(p: PipelineConfig): string[] {
  if (!(p.outputs ?? (p.output ? [p.output] : [])).some((o) => o.type === 'snowplow')) return [];
  const uris = (p.contexts ?? []).map((c) => c.schema);
  for (const r of p.events) {
    if (r.drop) continue;
    if (r.schema !== undefined) uris.push(r.schema);
    else if (r.type === 'screen') uris.push(SCREEN_VIEW_SCHEMA);
    for (const c of r.contexts ?? []) uris.push(c.schema);
  }
  return [...new Set(uris)];
}
