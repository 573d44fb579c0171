/**
 * The last resort: an error nothing else caught (a rejected promise nobody awaited, an
 * exception thrown from a callback). Every known failure has its own path (Daemon.fatal); one
 * that arrives here is a bug, so it is logged (with its stack, secrets scrubbed) and the process
 * exits 1 rather than run on in an unknown state. Queued events and offsets are in the store.
 */
import type { Logger } from './logger.js';

export const LAST_RESORT_EXIT_CODE = 1;

export function installLastResort(log: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    try {
      log.fatal({ err, kind }, `${kind}: exiting (a bug: please report it with this line)`);
    } finally {
      process.exit(LAST_RESORT_EXIT_CODE);
    }
  };
  process.on('unhandledRejection', die('unhandled rejection'));
  process.on('uncaughtException', die('uncaught exception'));
}
