/**
 * Process-wide tuning: the workarounds that change node, V8 or a dependency for the whole
 * process. Importing a tailship module never applies any of them; `applyProcessTuning()` does,
 * once, before the rest of the program loads. bin/tailship.js calls it, and so do the benchmark
 * harness (bench/run.ts) and the test setup (test/helpers/process-tuning.ts), so what is
 * measured and tested is what ships. Each workaround is one file that says when it can go.
 */
import { keepHeapsSmall } from './small-heap.js';
import { retainSqliteObjectsOnNode24 } from './sqlite-node24-retain.js';
import { useUndiciParts } from './undici-parts.js';
import { keepWasmOnLiftoff } from './wasm-liftoff.js';
import { unsetSemiSpaceForWorkers } from './worker-semi-space.js';

export function applyProcessTuning(): void {
  keepWasmOnLiftoff();
  keepHeapsSmall();
  unsetSemiSpaceForWorkers();
  useUndiciParts();
  retainSqliteObjectsOnNode24();
}
