/**
 * Secret scrubbing shared by the logs and the HTTP server: every occurrence of a configured
 * secret (write keys, salts) and of its HTTP Basic token (`base64("<key>:")`) becomes [REDACTED].
 */
export const REDACTED = '[REDACTED]';

/** Keys whose values are never shown, whatever they hold. */
export const SECRET_KEY = /^(authorization|proxy-authorization|write_?key|hash_salt|password|secret)$/i;

export type Scrub = (s: string) => string;

export function makeScrubber(secrets: readonly string[]): Scrub {
  // Very short values would redact ordinary text; the schema requires non-empty keys anyway.
  const plain = secrets.filter((s) => s.length >= 4);
  const all = [...plain, ...plain.map((s) => Buffer.from(`${s}:`).toString('base64'))];
  if (all.length === 0) return (s) => s;
  return (s) => {
    let out = s;
    for (const secret of all) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
}

/** Scrubs strings inside a value (objects and arrays to a bounded depth); secret keys are blanked. */
export function scrubValue(v: unknown, scrub: Scrub, depth = 0): unknown {
  if (typeof v === 'string') return scrub(v);
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (v instanceof Error) {
    // The stack too (it repeats the message, where a secret may hide): a fatal line without
    // its stack leaves nothing to fix the bug from.
    const out: Record<string, unknown> = { type: v.name, message: scrub(v.message), code: (v as { code?: unknown }).code, stack: scrub(v.stack ?? '') };
    if (v.cause !== undefined) out.cause = scrubValue(v.cause, scrub, depth + 1);
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => scrubValue(x, scrub, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) ? REDACTED : scrubValue(x, scrub, depth + 1);
  return out;
}
