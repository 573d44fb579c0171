/** What every command shares: finding the config and turning a TailshipError into an exit. */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { loadConfigFile, loadConfigText, type LoadedConfig, type LoadOptions } from '../config/load.js';
import { TailshipError } from '../errors.js';
import { makeScrubber } from '../ops/redact.js';

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

/**
 * The config (configSource). From then on everything the command prints goes through the
 * config's secret scrubber: dead letters, status, errors (a collector's answer, a parser's
 * message) never show a write key. `scrubOutput: false` leaves stdout alone (`run`: the stdout
 * output's events are data).
 */
export function loadConfig(file: string | undefined, options: LoadOptions & { scrubOutput?: boolean } = {}): LoadedConfig {
  const { scrubOutput, ...loadOptions } = options;
  const source = configSource(file, process.env);
  let loaded: LoadedConfig;
  if ('file' in source) loaded = loadConfigFile(source.file, process.env, loadOptions);
  else if ('text' in source) loaded = loadConfigText(source.text, '<TAILSHIP_CONFIG>', process.cwd(), process.env, loadOptions);
  else throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', source.none);
  if (scrubOutput !== false) scrubStream(process.stdout, loaded.secrets);
  scrubStream(process.stderr, loaded.secrets);
  return loaded;
}

const scrubbed = new WeakMap<NodeJS.WriteStream, (secrets: readonly string[]) => void>();

/** Routes a stream's writes through the scrubber of these secrets (and of any added later). */
function scrubStream(stream: NodeJS.WriteStream, secrets: readonly string[]): void {
  const known = scrubbed.get(stream);
  if (known) return known(secrets);
  let all = [...secrets];
  let scrub = makeScrubber(all);
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(typeof chunk === 'string' ? scrub(chunk) : Buffer.isBuffer(chunk) ? scrub(chunk.toString('utf8')) : chunk, ...rest)) as typeof stream.write;
  scrubbed.set(stream, (more) => {
    all = [...new Set([...all, ...more])];
    scrub = makeScrubber(all);
  });
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
