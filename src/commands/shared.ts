/** What every command shares: finding the config and turning a TailshipError into an exit. */
import { Option } from 'commander';
import { loadConfigFile, loadConfigText, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { TailshipError } from '../errors.js';

export const configOption = (): Option => new Option('-c, --config <file>', 'config file (default: the TAILSHIP_CONFIG variable)');

/** The config from --config, else from the TAILSHIP_CONFIG variable (YAML text, for containers). */
export function loadConfig(file: string | undefined, options: LoadOptions = {}): LoadedConfig {
  if (file) return loadConfigFile(file, process.env, options);
  const text = process.env.TAILSHIP_CONFIG;
  if (text) return loadConfigText(text, '<TAILSHIP_CONFIG>', process.cwd(), process.env, options);
  throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', 'no config: pass --config FILE or set TAILSHIP_CONFIG to the YAML text');
}

/**
 * Prints a TailshipError as `tailship: file:line:col: path: message [CODE]` (one line per
 * problem, the code on the last) and exits 1.
 */
export function fail(err: unknown): never {
  if (err instanceof TailshipError) {
    const lines = err.describe().split('\n').map((l) => `tailship: ${l}`);
    if (err.problems.length > 1) lines.push(`tailship: ${err.problems.length} problems`);
    process.stderr.write(`${lines.join('\n')} [${err.code}]\n`);
    process.exit(1);
  }
  throw err;
}
