/**
 * `tailship parse`: runs sample lines through one pipeline's joiners, parser and mapping rules
 * and prints each record and the events it makes, without touching the state store or sending
 * anything. The tool to use while writing a config.
 */
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { isParseError } from '../../parsers/types.js';
import type { LoadedConfig } from '../config/load.js';
import { pipelineOutputs } from '../config/load.js';
import type { PipelineConfig } from '../config/schema.js';
import { compilePipeline, resolvePipelineSchemas } from '../daemon.js';
import { EncodeRefusal, type Encoder } from '../emit/destination.js';
import { loadEncoder } from '../emit/encoders.js';
import { encoderSpec } from '../emit/registry.js';
import type { AnalyticsEvent } from '../mapping/event.js';
import { TailshipError } from '../errors.js';
import { Framer } from '../source/framer.js';
import type { Line } from '../source/line.js';
import { configOption, fail, loadConfig } from './shared.js';

interface ParseOptions {
  config?: string;
  pipeline?: string;
  json?: boolean;
}

async function parse(input: string | undefined, opts: ParseOptions): Promise<void> {
  // Nothing is sent: the outputs' secrets need not be in the environment.
  const loaded = loadConfig(opts.config, { allowUnsetVariables: true });
  const pipelines = loaded.config.pipelines;
  const index = opts.pipeline === undefined ? 0 : pipelines.findIndex((p) => p.name === opts.pipeline);
  if (index < 0 || (opts.pipeline === undefined && pipelines.length > 1)) {
    throw new TailshipError('TAILSHIP_CONFIG_INVALID', `give --pipeline, one of: ${pipelines.map((p) => p.name).join(', ')}`);
  }
  const p = pipelines[index]!;
  // Set by the mapper while it maps one record: its rule's timestamp did not parse.
  let timestampFailed = false;
  let timestampFailures = 0;
  const { parser, mapper, newJoiner } = await compilePipeline(loaded, p, index, { timestampFallback: () => (timestampFailed = true) });
  const encoders = await outputEncoders(loaded, p);
  const joiner = newJoiner?.();
  const fromFile = input !== undefined && input !== '-';
  const file = fromFile ? path.resolve(input) : '<stdin>';
  if (fromFile) assertReadable(file);
  else if (process.stdin.isTTY) process.stderr.write('tailship parse: reading sample lines from standard input; end with Ctrl-D (or give a file: tailship parse FILE)\n');
  const source: Readable = fromFile ? createReadStream(file) : process.stdin;
  const framer = new Framer(Math.max(...p.inputs.map((i) => i.max_line_bytes)));
  framer.reset(0);
  let n = 0;
  const out = process.stdout;

  const show = (line: Line): void => {
    n++;
    const parsed = parser.parse(line.text, { file, offset: line.end });
    const base = { line: n, offset: line.start, text: line.text };
    if (isParseError(parsed)) {
      if (opts.json) out.write(JSON.stringify({ ...base, parseError: parsed.reason, column: parsed.column }) + '\n');
      else out.write(`#${n} @${line.start}  ${line.text}\n  parse error: ${parsed.reason}${parsed.column ? ` (column ${parsed.column})` : ''}\n\n`);
      return;
    }
    timestampFailed = false;
    const outcomes = mapper.map(parsed, { fileKey: 'parse', file, offset: line.start, readAtMs: Date.now() });
    if (timestampFailed) timestampFailures++;
    // What each Snowplow output refuses (its Iglu schemas), as the running pipeline dead-letters it.
    const refusals = outcomes.map((o) => (o.ok ? refusedBy(encoders, o.event) : []));
    if (opts.json) {
      const events = outcomes.map((o, i) => (o.ok ? (refusals[i]!.length ? { ...o.event, refused: refusals[i] } : o.event) : { error: o.reason }));
      out.write(JSON.stringify({ ...base, record: parsed, events, ...(timestampFailed ? { timestampFallback: true } : {}) }) + '\n');
      return;
    }
    out.write(`#${n} @${line.start}  ${line.text}\n  record: ${JSON.stringify(parsed)}\n`);
    if (outcomes.length === 0) out.write('  events: none (no rule took it, or it was dropped / sampled out)\n');
    outcomes.forEach((o, i) => {
      out.write(o.ok ? `  event:  ${JSON.stringify(o.event)}\n` : `  mapping error: ${o.reason}\n`);
      for (const r of refusals[i]!) out.write(`  refused by output ${r.output}: ${r.reason}\n`);
    });
    if (timestampFailed) out.write(`  warning: ${TIMESTAMP_WARNING}\n`);
    out.write('\n');
  };
  const emit = (lines: Line[]): void => {
    for (const l of lines) {
      if (joiner) joiner.push(l, Date.now()).forEach(show);
      else show(l);
    }
  };

  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    const lines: Line[] = [];
    framer.push(buf, buf.length, lines);
    emit(lines);
  }
  const last: Line[] = [];
  framer.takePartial(last);
  emit(last);
  joiner?.flush().forEach(show);
  if (timestampFailures) process.stderr.write(`tailship parse: warning: ${timestampFailures} of ${n} lines: ${TIMESTAMP_WARNING}\n`);
}

const TIMESTAMP_WARNING = "the rule's timestamp did not parse with its timestamp_format, so the event got the time the line was read (check timestamp and timestamp_format)";

/** A missing or unreadable sample file is a one-line error, not a stack. */
function assertReadable(file: string): void {
  let directory = false;
  try {
    const fd = openSync(file, 'r');
    directory = fstatSync(fd).isDirectory();
    closeSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code;
    throw new TailshipError('TAILSHIP_INPUT_UNREADABLE', `cannot read sample lines: ${why}`, { file });
  }
  if (directory) throw new TailshipError('TAILSHIP_INPUT_UNREADABLE', 'cannot read sample lines: is a directory', { file });
}

/** The pipeline's outputs' encoders (Snowplow's with their Iglu schemas), to show what an output would refuse. */
async function outputEncoders(loaded: LoadedConfig, p: PipelineConfig): Promise<Array<{ output: string; encoder: Encoder }>> {
  const outputs = pipelineOutputs(p);
  const { schemas } = await resolvePipelineSchemas(loaded, p);
  return Promise.all(outputs.map(async (o) => ({ output: o.name, encoder: await loadEncoder(encoderSpec(o, { schemas })) })));
}

function refusedBy(encoders: ReadonlyArray<{ output: string; encoder: Encoder }>, ev: AnalyticsEvent): Array<{ output: string; reason: string }> {
  const out: Array<{ output: string; reason: string }> = [];
  for (const { output, encoder } of encoders) {
    try {
      encoder.encode(ev);
    } catch (err) {
      if (!(err instanceof EncodeRefusal)) throw err;
      out.push({ output, reason: err.message });
    }
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('parse')
    .description("print what one pipeline's parser and rules make of sample lines, without sending")
    .argument('[file]', 'file of sample lines, or - for standard input', '-')
    .addOption(configOption())
    .option('-p, --pipeline <name>', 'pipeline to use (default: the only one)')
    .option('--json', 'one JSON object per line')
    .action((file: string, o: ParseOptions) => parse(file, o).catch(fail));
}
