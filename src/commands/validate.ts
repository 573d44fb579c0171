/**
 * `tailship validate`: schema, parsers, templates and expressions, and the Iglu schemas of
 * Snowplow events (where each comes from), without starting anything.
 */
import type { Command } from 'commander';
import { compilePipeline, resolvePipelineSchemas } from '../daemon.js';
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
  const n = loaded.config.pipelines.length;
  process.stdout.write(`${loaded.source}: OK (${n} pipeline${n === 1 ? '' : 's'}: ${loaded.config.pipelines.map((p) => p.name).join(', ')})\n`);
  if (notes.length) process.stdout.write(`Iglu schemas:\n${notes.join('')}`);
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check the config: schema, parsers, templates, expressions and Iglu schemas')
    .addOption(configOption())
    .action((o: { config?: string }) => validate(o).catch(fail));
}
