/**
 * Checks self-describing data against its Iglu JSON Schema with ajv, as Snowplow's enrich would
 * downstream, so that an event it would refuse is a dead letter here instead. Holds no
 * connections: the processing workers load it with the schemas the main thread resolved
 * (emit/snowplow/iglu.ts).
 */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/**
 * Loaded on the first schema compiled, not with the module: every processing worker loads the
 * encoders, and ajv costs each one about 1 MB of heap and its load time, for nothing in a
 * pipeline without Iglu schemas.
 */
function newAjv(): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  // ajv-formats is CommonJS whose module.exports is the plugin (its types declare a default export).
  const formats = require('ajv-formats') as { default?: unknown };
  const addFormats = (formats.default ?? formats) as (ajv: Ajv) => Ajv;
  // strict off: Iglu schemas carry `self` and other keywords ajv does not know.
  return addFormats(new AjvClass({ strict: false, allErrors: false, logger: false }));
}

/** Iglu schema URI → the JSON Schema it names. */
export type SchemaSet = Readonly<Record<string, object>>;

export class IgluChecker {
  private ajv: Ajv | undefined;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly schemas: SchemaSet) {}

  /** True when a schema for `uri` was resolved (otherwise data of it is not checked). */
  has(uri: string): boolean {
    return Object.hasOwn(this.schemas, uri);
  }

  /** Why `data` does not match the schema `uri` names (with the failing path), or undefined. */
  check(uri: string, data: unknown): string | undefined {
    const validate = this.validator(uri);
    if (!validate || validate(data)) return undefined;
    return `${uri}: ${describe(validate.errors?.[0])}`;
  }

  /** Compiles a schema, throwing ajv's error if it is not a JSON Schema ajv can use. */
  validator(uri: string): ValidateFunction | undefined {
    let v = this.compiled.get(uri);
    if (!v && this.has(uri)) {
      const { $schema: _meta, self: _self, ...schema } = this.schemas[uri] as Record<string, unknown>;
      v = (this.ajv ??= newAjv()).compile(schema);
      this.compiled.set(uri, v);
    }
    return v;
  }
}

function describe(e: ErrorObject | undefined): string {
  if (!e) return 'does not match';
  const at = e.instancePath === '' ? '/' : e.instancePath;
  const p = e.params as Record<string, unknown>;
  const extra = typeof p.additionalProperty === 'string' ? ` ("${p.additionalProperty}")` : '';
  return `at ${at}: ${e.message ?? 'does not match'}${extra}`;
}
