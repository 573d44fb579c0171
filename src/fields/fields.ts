/**
 * The value types of config options, as zod schemas: durations and sizes resolved to numbers
 * with their units in the option names, integers that may arrive as strings after ${VAR}
 * interpolation, collector URLs. Shared by the config schema and the protocols' options, so it
 * imports neither.
 */
import { z } from 'zod';
import { parseDurationMs, parseSizeBytes } from './duration.js';

/** A URL tailship can send to: http:// or https:// (z.url() alone also takes e.g. foo://host). */
export const httpUrl = () => z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

export const duration = (def: string, help: string) =>
  z
    .union([z.number(), z.string()])
    .default(def)
    .transform((v, ctx) => {
      const d = parseDurationMs(v);
      if ('error' in d) {
        ctx.addIssue({ code: 'custom', message: d.error });
        return z.NEVER;
      }
      return d.ms;
    })
    .describe(help);

/** A size; `max`, when given, is a protocol limit a larger value would break. */
export const size = (def: number | string, help: string, max?: { bytes: number; why: string }) =>
  z
    .union([z.number(), z.string()])
    .default(def)
    .transform((v, ctx) => {
      const n = parseSizeBytes(v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a size such as 65536, "64KiB" or "10MB", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      if (max && n > max.bytes) {
        ctx.addIssue({ code: 'custom', message: `at most ${max.bytes} bytes (${max.why}), got ${n}` });
        return z.NEVER;
      }
      return n;
    })
    .describe(help);

/** Integers may arrive as strings after ${VAR} interpolation; anything else is named as it was written. */
export const int = (def: number, min: number, max: number, help: string) =>
  z
    .preprocess(
      (v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
      z.number({ error: (iss) => `expected an integer, got ${JSON.stringify(iss.input)}` }).int({ error: (iss) => `expected an integer, got ${JSON.stringify(iss.input)}` }).min(min).max(max),
    )
    .default(def)
    .describe(help);
