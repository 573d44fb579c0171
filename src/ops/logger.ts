/**
 * Structured logs (pino) on stderr, so stdout stays free for the stdout output. JSON by default,
 * pretty on a terminal. Secrets (write keys, salts, Authorization headers) are scrubbed from
 * every log line, whatever field or message they hide in.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACTED = '[REDACTED]';

export interface LoggerOptions {
  level: string;
  secrets: readonly string[];
  pretty?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const secrets = opts.secrets.filter((s) => s.length >= 4);
  const basicTokens = secrets.map((s) => Buffer.from(`${s}:`).toString('base64'));
  const all = [...secrets, ...basicTokens];
  const scrub = (v: unknown, depth = 0): unknown => {
    if (typeof v === 'string') return scrubString(v, all);
    if (depth > 6 || v === null || typeof v !== 'object') return v;
    if (v instanceof Error) return { type: v.name, message: scrubString(v.message, all), code: (v as { code?: unknown }).code };
    if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = /^(authorization|write_?key|hash_salt|password)$/i.test(k) ? REDACTED : scrub(x, depth + 1);
    return out;
  };
  const pretty = opts.pretty ?? process.stderr.isTTY;
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubString(a, all) : a)) as Parameters<typeof method>);
        },
      },
    },
    pretty ? pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }) : pino.destination({ fd: 2, sync: true }),
  );
}

function scrubString(s: string, secrets: readonly string[]): string {
  let out = s;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
