import { loadConfigText } from '../../src/config/load.js';
import { TailshipError } from '../../src/errors.js';

/** The error loading this config text (as /etc/tailship.yaml) throws; fails the test if it loads. */
export function configErrorOf(text: string, env: Record<string, string> = {}): TailshipError {
  try {
    loadConfigText(text, '/etc/tailship.yaml', '/etc', env);
  } catch (err) {
    if (err instanceof TailshipError) return err;
    throw err;
  }
  throw new Error('expected a config error');
}
