/**
 * Starting processing worker threads. A worker takes ~100 ms to boot and load its modules, which
 * the daemon used to wait for after loading its own. `tailship run` now starts them first
 * (bin/tailship.js calls prestartWorkers before importing the CLI), so both threads load at
 * once, and the pipelines take them when they start (workers.ts). A worker gets its pipeline's
 * setup as its first message (worker.ts), so it can start before the config is read.
 *
 * This module is light on purpose: bin/tailship.js imports it before anything else.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';

/**
 * A worker's young generation: 12 MB (4 MiB semi-spaces) instead of V8's default, which grows
 * to 48 MB under this load. 24 MB measured best while dead line batches piled up in the worker's
 * old generation (bench/RESULTS.md, attempts 15 and 16); now that the worker frees them as soon
 * as a batch is processed (release.ts), 12 MB runs as fast and peaks ~6 MB lower: the young
 * generation grew from 8 to 16 MB during a run at 24 (attempt 42). The main thread allocates
 * ~30 times less and runs with 2 MiB semi-spaces where deployed (attempt 34).
 */
export const WORKER_YOUNG_GENERATION_MB = 12;

/**
 * `workers: auto`: one per core beside the main thread's, 1 to 4. On 2 cores a second worker
 * only competes with the main thread (bench/RESULTS.md, `--only workers`).
 */
export function workerCount(setting: 'auto' | number): number {
  return setting === 'auto' ? Math.min(4, Math.max(1, availableParallelism() - 1)) : setting;
}

interface Spare {
  worker: Worker;
  /** Set if it failed or exited while nobody had taken it. */
  gone: boolean;
  /** Its listeners while it waits, removed when a pool takes it. */
  onGone: () => void;
}

const spares: Spare[] = [];

/** Starts `count` workers ahead of need (those no pipeline takes are stopped by stopSpareWorkers). */
export function prestartWorkers(count = workerCount('auto')): void {
  for (let i = 0; i < count; i++) {
    const spare: Spare = { worker: newWorker(), gone: false, onGone: () => (spare.gone = true) };
    // Until a pool takes it, a failure is only noted: the pool then starts a fresh worker, whose
    // failure it reports.
    spare.worker.on('error', spare.onGone);
    spare.worker.on('exit', spare.onGone);
    // A spare alone does not keep the process running.
    spare.worker.unref();
    spares.push(spare);
  }
}

/** A started spare, or a new worker; it waits for its pipeline's setup as its first message. */
export function takeWorker(): Worker {
  for (let spare = spares.shift(); spare; spare = spares.shift()) {
    spare.worker.off('error', spare.onGone);
    spare.worker.off('exit', spare.onGone);
    if (spare.gone) {
      void spare.worker.terminate();
      continue;
    }
    spare.worker.ref();
    return spare.worker;
  }
  return newWorker();
}

/** How many prestarted workers wait to be taken. */
export function spareWorkerCount(): number {
  return spares.length;
}

/** Stops the spares no pipeline took (a config with fewer workers than prestarted). */
export async function stopSpareWorkers(): Promise<void> {
  await Promise.all(spares.splice(0).map((s) => s.worker.terminate()));
}

function newWorker(): Worker {
  // V8 lets a `--max-semi-space-size` flag override a worker's `resourceLimits`, so the
  // deployment's flag, sized for the main thread, would also shrink the workers' young generation
  // (measured: +35 MB resident, as promoted Buffers wait for a full GC). Setting it to 0 ("not
  // set") changes no running heap: V8 reads it only when it creates an isolate.
  v8.setFlagsFromString('--max-semi-space-size=0');
  return new Worker(WORKER_SCRIPT, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
}

/**
 * The compiled worker script. Under vitest this module runs from src/*.ts, which a worker
 * thread cannot load: the build's copy is used (`npm test` builds first).
 */
const WORKER_SCRIPT = (() => {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url);
  const built = here.replace(/\/src\/pipeline\/worker-spawn\.ts$/, '/dist/src/pipeline/worker.js');
  if (!existsSync(built)) throw new Error(`processing worker ${built} is missing: run \`npm run build\` first`);
  return new URL(`file://${built}`);
})();
