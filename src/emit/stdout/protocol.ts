/** Stdout: events as NDJSON, for dry runs, demos and piping into other tools. */
import type { Protocol } from '../protocol.js';
import { stdoutOptions } from './options.js';

export const stdout: Protocol<typeof stdoutOptions> = {
  type: 'stdout',
  options: stdoutOptions,
  encoderModule: 'ndjson-encoder.js',
  async destination(cfg) {
    const { StdoutDestination } = await import('./stdout.js');
    return new StdoutDestination(cfg);
  },
};
