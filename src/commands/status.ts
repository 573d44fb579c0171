/**
 * `tailship status`: files with lag, queue depth per output, dead letters, last error per output.
 * Needs the config's shape, not the outputs' secrets (it sends nothing).
 */
import type { Command } from 'commander';
import { printStatus } from '../ops/status.js';
import { configOption, fail, loadConfig } from './shared.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('files with lag, queue depth per output, dead letters (safe beside a running daemon)')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .action((o: { config?: string; json?: boolean }) => Promise.resolve().then(() => printStatus(loadConfig(o.config, { allowUnsetVariables: true }), o.json ?? false, process.stdout)).catch(fail));
}
