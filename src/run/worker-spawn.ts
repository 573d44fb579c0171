/**
 * Starting processing worker threads: how many, and with which heap limits. A pipeline's pool
 * starts them when it gets busy (workers.ts).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker's young generation: 6 MB (2 MiB semi-spaces) instead of V8's default, which grows
 * to 48 MB under this load. The worker frees each batch's buffers once it is processed
 * (release.ts), so what a scavenge finds alive is little more than the batch in hand
 * (docs/decisions/0021-memory-peaks-undici-s-parser-stays-on.md). 6 MB rather than 12 trades a
 * little CPU per line for less memory under hostile input (docs/decisions/0035-malloc-and-young-generations-sized-for-hostile-input.md).
 * The main thread runs with 2 MiB semi-spaces where deployed.
 */
export const WORKER_YOUNG_GENERATION_MB = 6;

/**
 * A worker's old generation: a bound, so that a line that makes processing allocate without end
 * (a plugin, a hostile record) ends the worker, not the process: the pool replaces it and sets the
 * line aside (workers.ts). Room for the largest line (max_line_bytes) held several times over as
 * text and as the values parsed from it, above what processing a batch keeps.
 */
export function workerOldGenerationMb(maxLineBytes: number): number {
  return 64 + Math.ceil((16 * maxLineBytes) / (1 << 20));
}

/**
 * `workers: auto`: one per core beside the main thread's, 1 to 4. On 2 cores a second worker
 * only competes with the main thread (`npm run bench -- --only workers` compares the counts).
 */
export function workerCount(setting: 'auto' | number): number {
  return setting === 'auto' ? Math.min(4, Math.max(1, availableParallelism() - 1)) : setting;
}

/** A new processing worker; it waits for its pipeline's setup as its first message (worker.ts). */
export function startWorker(oldGenerationMb?: number): Worker {
  // Its young generation is sized by resourceLimits alone once process tuning has unset the
  // main thread's --max-semi-space-size (src/tuning/worker-semi-space.ts).
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, ...(oldGenerationMb === undefined ? {} : { maxOldGenerationSizeMb: oldGenerationMb }) };
  return new Worker(WORKER_SCRIPT, { resourceLimits });
}

/**
 * The compiled worker script. Under vitest this module runs from src/*.ts, which a worker
 * thread cannot load: the build's copy is used (`npm test` builds first).
 */
const WORKER_SCRIPT = (() => {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url);
  const built = here.replace(/\/src\/run\/worker-spawn\.ts$/, '/dist/src/run/worker.js');
  if (!existsSync(built)) throw new Error(`processing worker ${built} is missing: run \`npm run build\` first`);
  return new URL(`file://${built}`);
})();
