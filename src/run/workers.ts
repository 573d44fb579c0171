/**
 * Where a pipeline's per-line work runs: on a pool of worker threads (the default: the main
 * thread then only reads, frames, commits and sends, and the other cores parse), or inline on
 * the main thread (`workers: 0`). Results come back in any order; the pipeline commits them in
 * read order.
 */
import type { Worker } from 'node:worker_threads';
import { TailshipError } from '../errors.js';
import { transferables, type LineBatch } from '../source/line-batch.js';
import { processBatch, type ProcessResult, type ProcessStages } from './process.js';
import { releaseBuffers } from './release.js';
import { buildStages, type StagesSetup } from './stages.js';
import { Tap, type TapSelector } from './tap.js';
import type { WorkerJob, WorkerMessage, WorkerTap } from './worker.js';
import { startWorker } from './worker-spawn.js';

export interface Processing {
  /** Threads doing the work (0: the main thread). */
  readonly threads: number;
  run(batch: LineBatch): Promise<ProcessResult>;
  /** Attaches `tailship tap` to the following batches (undefined: detaches it). */
  setTap(selector: TapSelector | undefined): void;
  close(): Promise<void>;
}

export async function startProcessing(setup: StagesSetup, workers: number): Promise<Processing> {
  if (workers === 0) return new InlineProcessing(await buildStages(setup));
  const pool = new WorkerPool(setup, workers);
  try {
    await pool.ready;
  } catch (err) {
    await pool.close();
    throw err;
  }
  return pool;
}

class InlineProcessing implements Processing {
  readonly threads = 0;
  constructor(private readonly stages: ProcessStages) {}

  run(batch: LineBatch): Promise<ProcessResult> {
    try {
      return Promise.resolve(processBatch(this.stages, batch));
    } catch (err) {
      return Promise.reject(err);
    } finally {
      // As a worker does (worker.ts): the batch's buffers go now, not at the next full GC.
      releaseBuffers(transferables(batch));
    }
  }

  setTap(selector: TapSelector | undefined): void {
    this.stages.tap = selector && new Tap(selector);
  }

  async close(): Promise<void> {}
}

interface Waiting {
  resolve(r: ProcessResult): void;
  reject(err: Error): void;
}

class WorkerPool implements Processing {
  private readonly workers: Array<{ worker: Worker; waiting: Map<number, Waiting> }>;
  private nextId = 1;
  /** Set when a worker failed: the pipeline stops (what was not committed is read again next start). */
  private failed: Error | undefined;
  private closing = false;

  /** Resolves when every worker has built its stages; rejects if one fails to (a config it cannot load). */
  readonly ready: Promise<void>;

  constructor(setup: StagesSetup, readonly threads: number) {
    const readies: Array<Promise<void>> = [];
    this.workers = Array.from({ length: threads }, () => {
      const worker = startWorker();
      const slot = { worker, waiting: new Map<number, Waiting>() };
      let started = false;
      readies.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (m: WorkerMessage) => {
            if ('ready' in m) {
              started = true;
              resolve();
              return;
            }
            const w = slot.waiting.get(m.id);
            if (!w) return;
            slot.waiting.delete(m.id);
            if ('error' in m) w.reject(Object.assign(new Error(`processing worker: ${m.error.message}`), { stack: m.error.stack }));
            else w.resolve(m.result);
          });
          worker.on('error', (thrown: unknown) => {
            // What a worker throws arrives as it was thrown, not always as an Error.
            const err = thrown instanceof Error && thrown.message ? thrown : new Error(`processing worker failed: ${describe(thrown)}`);
            if (!started) reject(new TailshipError('TAILSHIP_WORKER_FAILED', `processing worker could not start: ${err.message}`, {}, { cause: err }));
            this.fail(slot.waiting, err);
          });
          worker.on('exit', (code) => {
            if (!started) reject(new TailshipError('TAILSHIP_WORKER_FAILED', `processing worker exited with code ${code} while starting`));
            if (!this.closing) this.fail(slot.waiting, new Error(`processing worker exited with code ${code}`));
          });
        }),
      );
      // Its first message is the setup (worker.ts).
      worker.postMessage(setup);
      return slot;
    });
    this.ready = Promise.all(readies).then(() => undefined);
    // Awaited by startProcessing; this keeps a failure seen there from also being unhandled.
    this.ready.catch(() => undefined);
  }

  run(batch: LineBatch): Promise<ProcessResult> {
    if (this.failed) return Promise.reject(this.failed);
    // The least busy worker: batches of a busy file spread over all of them.
    let slot = this.workers[0]!;
    for (const s of this.workers) if (s.waiting.size < slot.waiting.size) slot = s;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      const job: WorkerJob = { id, batch };
      slot.worker.postMessage(job, transferables(batch));
    });
  }

  setTap(selector: TapSelector | undefined): void {
    const message: WorkerTap = { tap: selector ?? null };
    for (const s of this.workers) s.worker.postMessage(message);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((s) => s.worker.terminate()));
    for (const s of this.workers) this.fail(s.waiting, new Error('processing stopped'));
  }

  private fail(waiting: Map<number, Waiting>, err: Error): void {
    this.failed ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  }
}

function describe(thrown: unknown): string {
  if (typeof thrown === 'object' && thrown !== null) {
    const o = thrown as { name?: unknown; message?: unknown; stack?: unknown };
    // A DOMException (e.g. DataCloneError) thrown in a worker arrives with its text only in `stack`.
    if (!o.message && typeof o.stack === 'string' && o.stack !== '') return o.stack.split('\n')[0]!;
    const text = [o.name, o.message].filter((x) => typeof x === 'string' && x !== '').join(': ');
    if (text) return text;
    try {
      return JSON.stringify(thrown);
    } catch {
      return Object.prototype.toString.call(thrown);
    }
  }
  return String(thrown);
}
