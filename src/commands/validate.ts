/** `tailship validate`: schema, parsers, templates and expressions, without starting anything. */
import type { Command } from 'commander';
import { compilePipeline } from '../daemon.js';
import { configOption, fail, loadConfig } from './shared.js';

async function validate(opts: { config?: string }): Promise<void> {
  const loaded = loadConfig(opts.config);
  for (const [i, p] of loaded.config.pipelines.entries()) await compilePipeline(loaded, p, i);
  const n = loaded.config.pipelines.length;
  process.stdout.write(`${loaded.source}: OK (${n} pipeline${n === 1 ? '' : 's'}: ${loaded.config.pipelines.map((p) => p.name).join(', ')})\n`);
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check the config: schema, parsers, templates and expressions')
    .addOption(configOption())
    .action((o: { config?: string }) => validate(o).catch(fail));
}
