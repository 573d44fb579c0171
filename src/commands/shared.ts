/** What every command shares: finding the config and turning a TailshipError into an exit. */
import { Option } from 'commander';
import { loadConfigFile, loadConfigText, type LoadedConfig } from '../config/load.js';
import { TailshipError } from '../errors.js';
import { makeScrubber } from '../ops/redact.js';

export const configOption = (): Option => new Option('-c, --config <file>', 'config file (default: the TAILSHIP_CONFIG variable)');

/**
 * The config from --config, else from the TAILSHIP_CONFIG variable (YAML text, for containers).
 * From then on everything the command prints goes through the config's secret scrubber: dead
 * letters, status, errors (a collector's answer, a parser's message) never show a write key.
 */
export function loadConfig(file: string | undefined, options: { scrubOutput?: boolean } = {}): LoadedConfig {
  let loaded: LoadedConfig;
  if (file) loaded = loadConfigFile(file);
  else {
    const text = process.env.TAILSHIP_CONFIG;
    if (!text) throw new TailshipError('TAILSHIP_CONFIG_NOT_FOUND', 'no config: pass --config FILE or set TAILSHIP_CONFIG to the YAML text');
    loaded = loadConfigText(text, '<TAILSHIP_CONFIG>', process.cwd());
  }
  if (options.scrubOutput !== false) scrubStream(process.stdout, loaded.secrets);
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

/** Prints a TailshipError as `tailship: file:line:col: path: message [CODE]` and exits 1. */
export function fail(err: unknown): never {
  if (err instanceof TailshipError) {
    process.stderr.write(`tailship: ${err.describe()} [${err.code}]\n`);
    process.exit(1);
  }
  throw err;
}
