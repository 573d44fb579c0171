/**
 * Loads a config: YAML text → ${ENV} interpolation → schema validation → resolved paths.
 * Every error names the file, line and column (and the key path), and says what was expected;
 * all of a config's problems are reported together.
 */
import { readFileSync } from 'node:fs';
import { refuseWritableByOthers } from './permissions.js';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { TailshipError, type ErrorPlace, type Problem } from '../errors.js';
import { interpolate, type Env } from './env.js';
import { configSchema, type Config } from './schema.js';
import { OUTPUT_TYPES, protocolOf } from '../emit/registry.js';
import { didYouMean } from './suggest.js';

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

export interface LoadOptions {
  /**
   * Commands that never send (`status`, `dead-letter`) need the config's shape, not its secrets:
   * with this, a variable that is not set stands in as a placeholder instead of an error.
   */
  readonly allowUnsetVariables?: boolean;
}

/** What stands in for an unset variable with `allowUnsetVariables`: a valid URL and non-empty string. */
const unsetPlaceholder = (name: string): string => `http://unset.invalid/${name}`;

export function loadConfigFile(file: string, env: Env = process.env, options: LoadOptions = {}): LoadedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', `cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: abs });
  }
  refuseWritableByOthers(abs, 'config file');
  return loadConfigText(text, abs, path.dirname(abs), env, options);
}

/** Every problem is collected and reported at once, in document order. */
export function loadConfigText(text: string, source: string, configDir: string, env: Env = process.env, options: LoadOptions = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): ErrorPlace => {
    if (offset === undefined) return { file: source };
    const { line, col } = lineCounter.linePos(offset);
    return { file: source, line, column: col };
  };
  if (doc.errors.length) {
    throw TailshipError.of(
      'TAILSHIP_CONFIG_INVALID',
      doc.errors.map((e) => ({ message: `YAML syntax: ${e.message.split('\n')[0]}`, place: at(e.pos[0]) })),
    );
  }

  const envProblems = interpolateScalars(doc, env, at, options.allowUnsetVariables ? unsetPlaceholder : undefined);
  const locate = (keyPath: string): ErrorPlace => {
    const node = nodeAt(doc, splitKeyPath(keyPath));
    return { ...at(node?.range?.[0]), path: keyPath };
  };

  const raw: unknown = doc.toJS();
  const parsed = configSchema.safeParse(raw ?? {});
  const schemaProblems = parsed.success ? [] : schemaIssues(parsed.error, raw, locate);
  // A value left empty by a missing variable fails the schema too: the variable is the problem.
  const envLines = new Set(envProblems.map((p) => `${p.place.line}:${p.place.column}`));
  const problems = [...envProblems, ...schemaProblems.filter((p) => !envLines.has(`${p.place.line}:${p.place.column}`))].sort(byPlace);
  if (problems.length) throw TailshipError.of(envProblems.length === problems.length ? 'TAILSHIP_CONFIG_ENV_MISSING' : 'TAILSHIP_CONFIG_INVALID', problems);
  if (!parsed.success) throw new Error('unreachable: the schema failed without an issue');

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
      const options = o as unknown as Record<string, unknown>;
      for (const key of protocolOf(o.type).pathOptions ?? []) {
        if (typeof options[key] === 'string' && options[key]) options[key] = path.resolve(configDir, options[key]);
      }
    }
  }
  return { config, source, configDir, locate, secrets: collectSecrets(config) };
}

function byPlace(a: Problem, b: Problem): number {
  return (a.place.line ?? 0) - (b.place.line ?? 0) || (a.place.column ?? 0) - (b.place.column ?? 0);
}

function interpolateScalars(doc: Document, env: Env, at: (offset: number | undefined) => ErrorPlace, placeholder?: (name: string) => string): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const { value, missing } = interpolate(node.value, env, placeholder);
      node.value = value;
      if (placeholder) return;
      for (const m of missing) {
        problems.push({
          message: m.message
            ? `environment variable $${m.name} is not set: ${m.message}`
            : `environment variable $${m.name} is not set (write \${${m.name}:-default} to give a default)`,
          place: at(node.range?.[0]),
        });
      }
    },
  });
  return problems;
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

/** Every schema issue, located, with the fix when one is likely ("did you mean"). */
function schemaIssues(error: z.ZodError, raw: unknown, locate: (keyPath: string) => ErrorPlace): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path, raw);
      for (const key of issue.keys) {
        problems.push({ message: `unknown key "${key}"${didYouMean(key, known)}`, place: locate(joinKeyPath([...issue.path, key])) });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
      const got = valueAt(raw, issue.path);
      message = `unknown output type${got === undefined ? '' : ` "${String(got)}"`}; expected one of: ${OUTPUT_TYPES.join(', ')}${typeof got === 'string' ? didYouMean(got, OUTPUT_TYPES) : ''}`;
      problems.push({ message, place: locate(joinKeyPath(issue.path)) });
      continue;
    }
    if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined) {
      message = `missing required key (${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')})`;
    } else if (issue.code === 'invalid_type' || issue.code === 'invalid_value') {
      const got = valueAt(raw, issue.path);
      message = issue.message.replace(/^Invalid (input|option): /, '').replace(/, received \w+$/, '');
      if (!message.includes(', got ')) message += `, got ${JSON.stringify(got)}`;
      if (issue.code === 'invalid_value' && typeof got === 'string') message += didYouMean(got, issue.values.map(String));
    }
    problems.push({ message, place: locate(joinKeyPath(issue.path)) });
  }
  return problems;
}

function valueAt(raw: unknown, parts: ReadonlyArray<PropertyKey>): unknown {
  let v = raw;
  for (const p of parts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** The keys the schema allows at a path of the config (for "did you mean"). */
function knownKeys(parts: ReadonlyArray<PropertyKey>, raw: unknown): string[] {
  let schemas: z.core.$ZodType[] = [configSchema];
  const here = (s: z.core.$ZodType, value: unknown): z.core.$ZodType[] => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'default': case 'prefault': case 'optional': case 'nullable': case 'readonly':
        return here(def.innerType as z.core.$ZodType, value);
      case 'pipe':
        return here(def.in as z.core.$ZodType, value).concat(here(def.out as z.core.$ZodType, value));
      case 'union': {
        const options = def.options as z.core.$ZodType[];
        const disc = def.discriminator as string | undefined;
        const tag = disc ? valueAt(value, [disc]) : undefined;
        const matching = disc && tag !== undefined ? options.filter((o) => objectShape(o)?.[disc] && literalValues(objectShape(o)![disc]!).includes(tag)) : options;
        return (matching.length ? matching : options).flatMap((o) => here(o, value));
      }
      default:
        return [s];
    }
  };
  let value: unknown = raw;
  schemas = here(configSchema, value);
  for (const part of parts) {
    value = valueAt(value, [part]);
    schemas = schemas.flatMap((s) => {
      const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
      if (def.type === 'array' && typeof part === 'number') return here(def.element as z.core.$ZodType, value);
      const shape = objectShape(s);
      return shape?.[String(part)] ? here(shape[String(part)]!, value) : [];
    });
  }
  return schemas.flatMap((s) => Object.keys(objectShape(s) ?? {}));
}

function objectShape(s: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  const def = s._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType> };
  return def.type === 'object' ? def.shape : undefined;
}

function literalValues(s: z.core.$ZodType): unknown[] {
  const def = s._zod.def as unknown as { type: string; values?: unknown[] };
  return def.type === 'literal' ? (def.values ?? []) : [];
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
      for (const key of protocolOf(o.type).secretOptions ?? []) {
        const value = (o as unknown as Record<string, unknown>)[key];
        if (typeof value === 'string' && value) out.push(value);
      }
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
