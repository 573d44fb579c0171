/** What every command shares: finding the config and turning a TailshipError into an exit. */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { loadConfigFile, loadConfigText, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { TailshipError } from '../errors.js';

/** Where a config is looked for when neither --config nor TAILSHIP_CONFIG says. */
export const DEFAULT_CONFIG_FILE = '/etc/tailship/tailship.yaml';

export const configOption = (): Option =>
  new Option('-c, --config <file>', `config file (default: the TAILSHIP_CONFIG variable, a file or the YAML text; else ${DEFAULT_CONFIG_FILE})`);

export type ConfigSource = { file: string } | { text: string } | { none: string };

/**
 * Where the config comes from: --config; else TAILSHIP_CONFIG, a file path when it is one line
 * that cannot be YAML mapping text (no ": ", no "{"), else the YAML text itself (containers);
 * else the default file when it exists.
 */
export function configSource(flag: string | undefined, env: NodeJS.ProcessEnv, defaultFile = DEFAULT_CONFIG_FILE): ConfigSource {
  if (flag) return { file: flag };
  const value = env.TAILSHIP_CONFIG?.trim();
  if (value) return !value.includes('\n') && !/:\s|\{/.test(value) ? { file: value } : { text: env.TAILSHIP_CONFIG! };
  if (existsSync(defaultFile)) return { file: defaultFile };
  return { none: `no config: pass --config FILE, set TAILSHIP_CONFIG (a file, or the YAML text), or write ${defaultFile}` };
}

export function loadConfig(file: string | undefined, options: LoadOptions = {}): LoadedConfig {
  const source = configSource(file, process.env);
  if ('file' in source) return loadConfigFile(source.file, process.env, options);
  if ('text' in source) return loadConfigText(source.text, '<TAILSHIP_CONFIG>', process.cwd(), process.env, options);
  throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', source.none);
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
