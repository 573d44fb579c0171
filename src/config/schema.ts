/**
 * The configuration schema: the single source of truth for option names, types, defaults and
 * help text (`.describe()`), from which docs/configuration.md is generated. Durations and sizes
 * are resolved here to numbers with units in their names, so the hot path reads plain numbers.
 * Each output's options are its protocol's (emit/registry.ts).
 */
import { z } from 'zod';
import { outputSchema, protocolOf } from '../emit/registry.js';
import { duration, httpUrl, int, size } from '../fields/fields.js';

export const inputSchema = z
  .strictObject({
    paths: z.array(z.string().min(1)).min(1).describe('Glob patterns of files to tail (`*`, `**`, `{a,b}`); relative paths resolve against the config file\'s directory.'),
    exclude: z.array(z.string().min(1)).default([]).describe('Glob patterns of files never to tail, even when `paths` matches them.'),
    start_at: z.enum(['beginning', 'end']).default('end').describe('Where to start a file seen for the first time; a stored offset always wins.'),
    include_compressed: z.boolean().default(false).describe('Also tail files ending in .gz/.bz2/.xz/.zst (off: rotated, compressed files are ignored).'),
    rescan_interval: duration('10s', 'How often globs are expanded again, as a safety net beside file-system events.'),
    poll_interval: duration('250ms', 'How often open files are checked for new bytes, rotation and truncation.'),
    max_line_bytes: size('1MiB', 'A longer line is cut to this size and flagged; the rest, up to the next newline, is skipped.'),
    partial_line_timeout: duration('5s', 'A last line without a newline is emitted after this long without new bytes.'),
    max_read_bytes: size('256KiB', 'Bytes read from one file per turn, so that one busy file cannot starve the others.'),
    max_open_files: int(1024, 1, 1_000_000, 'Open file handles at most; the least recently active are closed and reopened at their offset.'),
    close_inactive: duration('5m', 'Close the handle of a file with no new bytes for this long (it reopens when it grows).'),
    ignore_older: duration('0s', 'Ignore files not modified for this long when first seen (0: never ignore).'),
    clean_removed_after: duration('24h', 'Forget the stored offset of a deleted file after this long.'),
  })
  .describe('A set of files to tail.');

export const parserSchema = z
  .union([
    z.looseObject({ type: z.string().min(1).describe('Name of a built-in parser (see docs/parsers.md).') }),
    z.looseObject({
      module: z.string().min(1).describe('Path of a user parser module, relative to the config file.'),
      options: z.record(z.string(), z.unknown()).default({}),
    }),
  ])
  .describe('How a line becomes a record: a built-in parser with its options, or a user module.');

export const multilineSchema = z
  .strictObject({
    preset: z.enum(['java', 'python', 'go', 'timestamp']).optional().describe('A built-in pattern set; explicit options override it.'),
    pattern: z.string().optional().describe('Regular expression tested against each line.'),
    negate: z.boolean().default(false).describe('Match lines that do NOT match `pattern`.'),
    match: z.enum(['after', 'before']).default('after').describe('Filebeat sense: join matching lines to the line before (after) or to the line after (before).'),
    max_lines: int(500, 1, 1_000_000, 'At most this many lines in one event; the rest start a new one.'),
    timeout: duration('5s', 'Flush a pending event after this long without a new line.'),
  })
  .describe('Join continuation lines (stack traces) into one event before parsing.');

const templated = z.unknown();
const templatedObject = z.record(z.string(), z.unknown());

const IGLU_URI = /^iglu:[a-zA-Z0-9-_.]+\/[a-zA-Z0-9-_]+\/[a-zA-Z0-9-_]+\/[0-9]+-[0-9]+-[0-9]+$/;
const igluUri = () => z.string().regex(IGLU_URI, 'expected an Iglu URI such as iglu:com.example/signup/jsonschema/1-0-0');

/** Snowplow context entities: self-describing JSONs whose `data` is templated. */
const contextsSchema = z
  .array(
    z.strictObject({
      schema: igluUri().describe('Iglu URI of the entity (a constant, so that it can be resolved at start).'),
      data: templatedObject.describe('The entity, its values templates over the record.'),
    }),
  )
  .describe('Snowplow: context entities attached to the event (`co`/`cx`); other outputs ignore them.');

export const ruleSchema = z
  .strictObject({
    when: z.string().optional().describe('Condition over the record; the rule applies only when it holds (see docs/mapping.md).'),
    type: z.enum(['track', 'identify', 'page', 'screen', 'group', 'alias']).optional().describe('Call type of the event this rule makes.'),
    drop: z.boolean().default(false).describe('Drop the record: no event, counted as dropped.'),
    continue: z.boolean().default(false).describe('After this rule, go on trying the following rules.'),
    sample: z
      .strictObject({
        rate: z.preprocess((v) => (typeof v === 'string' && /^\s*\d*\.?\d+\s*$/.test(v) ? Number(v) : v), z.number({ error: (iss) => `expected a number between 0 and 1, got ${JSON.stringify(iss.input)}` }).min(0).max(1)).describe('Fraction of records kept.'),
        key: z.string().optional().describe('Template whose value decides (deterministically) whether a record is kept.'),
      })
      .optional(),
    event: templated.optional(),
    name: templated.optional(),
    category: templated.optional(),
    userId: templated.optional(),
    anonymousId: templated.optional(),
    previousId: templated.optional(),
    groupId: templated.optional(),
    anonymous_id_from: z.array(z.string()).optional().describe('Templates hashed into a stable anonymousId when neither id is present.'),
    properties: templatedObject.optional(),
    traits: templatedObject.optional(),
    context: templatedObject.optional(),
    integrations: templatedObject.optional(),
    timestamp: templated.optional().describe('Template of the event time; its format is `timestamp_format`.'),
    timestamp_format: z.string().optional().describe('nginx, apache, iso8601, rfc3339, syslog, epoch_s, epoch_ms, epoch_us, or a strftime-like pattern.'),
    timezone: z.string().optional().describe('IANA zone for timestamps that carry none.'),
    schema: igluUri()
      .optional()
      .describe('Snowplow: Iglu URI of the self-describing event this rule makes; its data is `properties` (`traits` for identify and group).'),
    contexts: contextsSchema.optional(),
  })
  .describe('One mapping rule: which records it takes and the event it makes from them.');

export { outputSchema };

export const pipelineSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only').describe('Unique name; part of every messageId.'),
    inputs: z.array(inputSchema).min(1),
    parser: parserSchema,
    multiline: multilineSchema.optional(),
    on_parse_error: z.enum(['dead_letter', 'drop', 'raw']).default('dead_letter').describe('What happens to a line that does not parse.'),
    raw_field: z.string().default('message').describe('With on_parse_error: raw, the field that holds the raw line.'),
    on_long_line: z
      .enum(['dead_letter', 'truncate'])
      .default('dead_letter')
      .describe('A line longer than its input\'s max_line_bytes: a parse dead letter holding its first max_line_bytes (dead_letter), or cut there and processed with `_truncated: true` (truncate).'),
    limits: z
      .strictObject({
        max_depth: int(64, 1, 10_000, 'Deepest nesting of objects and arrays in a parsed record; a deeper one is a parse dead letter.'),
        max_fields: int(10_000, 1, 10_000_000, 'Keys and array elements in a parsed record, at every depth; a record with more is a parse dead letter.'),
      })
      .prefault({})
      .describe('Bounds on what a parser makes, checked before mapping: a hostile line becomes a dead letter, never a stuck pipeline.'),
    events: z.array(ruleSchema).min(1).describe('Ordered mapping rules; a record takes the first rule whose `when` holds.'),
    context: templatedObject.optional().describe('Templated context merged into every event.'),
    contexts: contextsSchema.optional().describe('Snowplow: context entities attached to every event, before those of its rule.'),
    redact: z.array(z.string()).default([]).describe('Event field paths removed before anything is queued.'),
    hash: z.array(z.string()).default([]).describe('Event field paths replaced by their sha256 (salted by hash_salt).'),
    hash_salt: z.string().optional().describe('Salt for `hash`, usually ${TAILSHIP_HASH_SALT}. Never logged.'),
    enrich: z
      .strictObject({
        user_agent: z.boolean().default(false).describe('Parse context.userAgent into context.userAgentData (browser, OS, device).'),
        referrer: z.boolean().default(false).describe('Split the referrer (context.page.referrer or properties.referrer) into context.referrer parts.'),
      })
      .prefault({}),
    output: outputSchema.optional(),
    outputs: z.array(outputSchema).min(1).optional(),
    workers: z
      .union([z.literal('auto'), z.number().int().min(0).max(64)])
      .default('auto')
      .describe('Threads that decode, parse, map, encode and compress lines; the main thread reads, commits and sends. Per pipeline: each is a V8 heap of its own. 0: all on the main thread (low-volume pipelines); auto: one per CPU core beside the main thread\'s, 1 to 4.'),
  })
  .superRefine((p, ctx) => {
    if (!p.output && !p.outputs) ctx.addIssue({ code: 'custom', message: 'a pipeline needs `output` or `outputs`' });
    if (p.output && p.outputs) ctx.addIssue({ code: 'custom', message: 'give either `output` or `outputs`, not both' });
    // What a protocol cannot send (e.g. a Snowplow output and an identify rule without schema).
    const types = new Set((p.outputs ?? (p.output ? [p.output] : [])).map((o) => o.type));
    for (const type of types) {
      for (const problem of protocolOf(type).checkRules?.(p.events) ?? []) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message });
    }
  });

export const configSchema = z
  .strictObject({
    state_dir: z.string().default('./.tailship').describe('Directory of the SQLite state file; created if missing.'),
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Log lines below this level are not written (logs go to stderr, JSON; pretty on a terminal).'),
    shutdown_timeout: duration('10s', 'On SIGTERM, how long to keep delivering queued events before exiting.'),
    server: z
      .strictObject({
        listen: z.string().default('127.0.0.1:9464').describe('host:port of /metrics, /healthz, /readyz and POST /reload (bind 0.0.0.0 only behind a network policy).'),
        max_file_labels: int(100, 1, 100_000, 'Distinct file labels in metrics; files beyond the limit share file="other".'),
        unready_after_failures: int(5, 1, 1_000_000, '/readyz fails when an output has failed this many attempts in a row...'),
        unready_after: duration('1m', '...and has not delivered anything for this long.'),
        auth_token: z
          .string()
          .min(16, 'at least 16 characters')
          .optional()
          .describe('Bearer token the status figures (/api/status: the page, `tailship top`) and /api/tap ask for; set it when listen is not 127.0.0.1, e.g. "${TAILSHIP_OPS_TOKEN}".'),
      })
      .optional()
      .describe('The HTTP server for metrics, health and reload; off unless this section is given.'),
    queue: z
      .strictObject({
        max_rows: int(100_000, 1, 100_000_000, 'Queue rows (chunks) above which tailers pause.'),
        max_bytes: size('1GiB', 'Queued bytes above which tailers pause.'),
        resume_ratio: z.number().min(0).max(1).default(0.8).describe('Tailers resume below this fraction of the limits.'),
      })
      .prefault({})
      .describe('High-water marks of the queue (all outputs together): backpressure, so memory stays flat.'),
    iglu: z
      .strictObject({
        registries: z
          .array(
            z.union([
              z.strictObject({ path: z.string().min(1).describe('A local static registry: a directory holding schemas/{vendor}/{name}/jsonschema/{version}.') }),
              z.strictObject({ url: httpUrl().describe('A static HTTP registry such as http://iglucentral.com: schemas are read from {url}/schemas/{vendor}/{name}/jsonschema/{version}.') }),
            ]),
          )
          .min(1)
          .describe('Looked up in this order; the first that has a schema gives it.'),
        timeout: duration('5s', 'How long to wait for an HTTP registry at start.'),
      })
      .optional()
      .describe('Snowplow: Iglu registries to check self-describing events and context entities against before they are queued. Schemas read over HTTP are kept in {state_dir}/iglu-cache, so a registry outage never stops delivery. Without this section nothing is checked.'),
    pipelines: z.array(pipelineSchema).min(1),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.pipelines.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['pipelines', i, 'name'], message: `duplicate pipeline name "${p.name}"` });
      seen.add(p.name);
    });
  });

export type Config = z.output<typeof configSchema>;
export type PipelineConfig = z.output<typeof pipelineSchema>;
export type InputConfig = z.output<typeof inputSchema>;
export type RuleConfig = z.output<typeof ruleSchema>;
export type { OutputConfig } from '../emit/registry.js';
export type IgluConfig = NonNullable<Config['iglu']>;
export type MultilineConfig = z.output<typeof multilineSchema>;
export type ParserConfig = z.output<typeof parserSchema>;
