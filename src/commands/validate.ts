/**
 * `tailship validate`: schema, parsers, templates and expressions, and the Iglu schemas of
 * Snowplow events (where each comes from), without starting anything.
 * Warns (exit 0) about inputs whose paths match no file now: a typo, or files not there yet.
 */
import type { Command } from 'commander';
import { compilePipeline, resolvePipelineSchemas } from '../daemon.js';
import { TailshipError } from '../errors.js';
import { Discovery } from '../source/discovery.js';
import { configOption, fail, loadConfig } from './shared.js';

async function validate(opts: { config?: string }): Promise<void> {
  const loaded = loadConfig(opts.config);
  const notes: string[] = [];
  for (const [i, p] of loaded.config.pipelines.entries()) {
    await compilePipeline(loaded, p, i);
    const iglu = await resolvePipelineSchemas(loaded, p);
    for (const [uri, source] of Object.entries(iglu.sources)) notes.push(`  ${p.name}: ${uri} from ${source}\n`);
    for (const u of iglu.unchecked) notes.push(`  ${p.name}: ${u.uri} UNCHECKED (no registry answered, none cached: ${u.reason})\n`);
  }
  for (const [i, p] of loaded.config.pipelines.entries()) {
    for (const [j, input] of p.inputs.entries()) {
      const discovery = new Discovery({ include: input.paths, exclude: input.exclude, includeCompressed: input.include_compressed, rescanMs: 0 }, () => undefined);
      if ((await discovery.scan()).length > 0) continue;
      const warning = new TailshipError('TAILSHIP_CONFIG_INVALID', `warning: no file matches ${input.paths.join(', ')} (yet): check the paths`, loaded.locate(`pipelines[${i}].inputs[${j}].paths`));
      process.stderr.write(`tailship: ${warning.describe()}\n`);
    }
  }
  const n = loaded.config.pipelines.length;
  process.stdout.write(`${loaded.source}: OK (${n} pipeline${n === 1 ? '' : 's'}: ${loaded.config.pipelines.map((p) => p.name).join(', ')})\n`);
  if (notes.length) process.stdout.write(`Iglu schemas:\n${notes.join('')}`);
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check the config: schema, parsers, templates, expressions and Iglu schemas; warn about paths matching no file')
    .addOption(configOption())
    .action((o: { config?: string }) => validate(o).catch(fail));
}
