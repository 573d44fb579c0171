/**
 * Loads a config: YAML text → ${ENV} interpolation → schema validation → resolved paths.
 * Every error names the file, line and column (and the key path), and says what was expected.
 */
import { readFileSync } from 'node:fs';
import { refuseWritableByOthers } from './permissions.js';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { TailshipError, type ErrorPlace } from '../errors.js';
import { interpolate, type Env } from './env.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the config file, or `<TAILSHIP_CONFIG>` when it came from the environment. */
  readonly source: string;
  readonly configDir: string;
  /** Maps a key path like `pipelines[0].events[1].when` to its place in the YAML text. */
  readonly locate: (keyPath: string) => ErrorPlace;
  /** Values that must never be printed (write keys, salts), for log and error redaction. */
  readonly secrets: readonly string[];
}

export function loadConfigFile(file: string, env: Env = process.env): LoadedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', `cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: abs });
  }
  refuseWritableByOthers(abs, 'config file');
  return loadConfigText(text, abs, path.dirname(abs), env);
}

export function loadConfigText(text: string, source: string, configDir: string, env: Env = process.env): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): ErrorPlace => {
    if (offset === undefined) return { file: source };
    const { line, col } = lineCounter.linePos(offset);
    return { file: source, line, column: col };
  };
  const first = doc.errors[0];
  if (first) {
    throw new TailshipError('TAILSHIP_CONFIG_INVALID', `YAML syntax: ${first.message.split('\n')[0]}`, at(first.pos[0]));
  }

  interpolateScalars(doc, env, at);

  const locate = (keyPath: string): ErrorPlace => {
    const node = nodeAt(doc, splitKeyPath(keyPath));
    return { ...at(node?.range?.[0]), path: keyPath };
  };

  const raw: unknown = doc.toJS();
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw schemaError(parsed.error, locate);

  const config = parsed.data;
  config.state_dir = path.resolve(configDir, config.state_dir);
  for (const r of config.iglu?.registries ?? []) if ('path' in r) r.path = path.resolve(configDir, r.path);
  for (const p of config.pipelines) {
    for (const input of p.inputs) {
      input.paths = input.paths.map((g) => toAbsoluteGlob(configDir, g));
      input.exclude = input.exclude.map((g) => toAbsoluteGlob(configDir, g));
    }
    // Output files (the file output's path, a CA bundle) are relative to the config file too.
    for (const o of p.outputs ?? (p.output ? [p.output] : [])) {
      if (o.type === 'file') o.path = path.resolve(configDir, o.path);
      if ('ca_file' in o && o.ca_file) o.ca_file = path.resolve(configDir, o.ca_file);
    }
  }
  return { config, source, configDir, locate, secrets: collectSecrets(config) };
}

function interpolateScalars(doc: Document, env: Env, at: (offset: number | undefined) => ErrorPlace): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const { value, missing } = interpolate(node.value, env);
      if (missing.length) {
        throw new TailshipError(
          'TAILSHIP_CONFIG_ENV_MISSING',
          `environment variable ${missing.map((m) => '$' + m).join(', ')} is not set (write \${${missing[0]}:-default} to give a default)`,
          at(node.range?.[0]),
        );
      }
      node.value = value;
    },
  });
}

/** `pipelines[0].events[1].when` → ['pipelines', 0, 'events', 1, 'when']. */
export function splitKeyPath(keyPath: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of keyPath.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]);
  }
  return out;
}

export function joinKeyPath(parts: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of parts) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** The deepest YAML node along the path (the parent when the key itself is absent). */
function nodeAt(doc: Document, parts: Array<string | number>): Node | undefined {
  let node: unknown = doc.contents;
  for (const part of parts) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(part));
      if (!pair) return node;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof part === 'number' && node.items[part]) {
      node = node.items[part];
    } else {
      break;
    }
  }
  return node as Node | undefined;
}

function schemaError(error: z.ZodError, locate: (keyPath: string) => ErrorPlace): TailshipError {
  // Report the first issue in document order, precisely; mention how many more there are.
  const issue = error.issues[0]!;
  let keyPath = joinKeyPath(issue.path);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    keyPath = joinKeyPath([...issue.path, key]);
    message = `unknown key "${key}"${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}`;
  } else if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    message = `unknown output type; expected one of: rudderstack, segment, snowplow, stdout, file`;
  } else if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    message = `missing required key (${issue.message.replace(/^Invalid input: /, '')})`;
  }
  const more = error.issues.length - 1;
  if (more > 0) message += ` (and ${more} more problem${more > 1 ? 's' : ''})`;
  return new TailshipError('TAILSHIP_CONFIG_INVALID', message, keyPath ? locate(keyPath) : { ...locate('') });
}

function toAbsoluteGlob(base: string, glob: string): string {
  return path.isAbsolute(glob) ? glob : path.join(base, glob);
}

function collectSecrets(config: Config): string[] {
  const out: string[] = [];
  if (config.server?.auth_token) out.push(config.server.auth_token);
  for (const p of config.pipelines) {
    if (p.hash_salt) out.push(p.hash_salt);
    for (const o of p.outputs ?? (p.output ? [p.output] : [])) {
      if ('write_key' in o && o.write_key) out.push(o.write_key);
    }
  }
  return out;
}

/** The outputs of a pipeline, whichever of `output` / `outputs` the user wrote, with unique names. */
export function pipelineOutputs(p: Config['pipelines'][number]): Array<NonNullable<Config['pipelines'][number]['output']> & { name: string }> {
  const list = p.outputs ?? (p.output ? [p.output] : []);
  const seen = new Map<string, number>();
  return list.map((o) => {
    const base = o.name ?? o.type;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { ...o, name: n === 1 ? base : `${base}-${n}` };
  });
}
