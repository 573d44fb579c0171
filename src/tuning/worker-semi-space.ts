/**
 * V8 lets a `--max-semi-space-size` flag override a worker's `resourceLimits`, so the flag
 * tailship runs with (2 MiB, sized for the main thread: bin/tailship.js, the deployment files)
 * would also shrink the processing workers' young generation, and they would promote the
 * buffers they receive before those die (docs/decisions/0019-the-main-thread-s-young-generation-sized.md).
 * Setting it back to 0 ("not set") once the main thread's heap exists changes no running heap:
 * V8 reads it only when it creates an isolate, so every worker started afterwards gets its own
 * `resourceLimits` (src/run/worker-spawn.ts).
 *
 * Remove when V8 lets a worker's `resourceLimits` win over the flag, or when the main thread no
 * longer runs with its own semi-space size.
 */
import { setFlagsFromString } from 'node:v8';

export function unsetSemiSpaceForWorkers(): void {
  setFlagsFromString('--max-semi-space-size=0');
}
