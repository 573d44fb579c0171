/**
 * Where a pipeline's per-line work runs: on a pool of worker threads (the default: the main
 * thread then only reads, frames, commits and sends, and the other cores parse), or inline on
 * the main thread (`workers: 0`). Results come back in any order; the pipeline commits them in
 * read order.
 */
import type { Worker } from 'node:worker_threads';
import { TailshipError } from '../errors.js';
import { transferables, type LineBatch } from '../source/line-batch.js';
import { BatchFailure, isolateFailingLines, sliceBatch } from './bisect.js';
import { processBatch, type ProcessResult, type ProcessStages } from './process.js';
import { releaseBuffers } from './release.js';
import { buildStages, type StagesSetup } from './stages.js';
import { Tap, type TapSelector } from './tap.js';
import type { WorkerJob, WorkerMessage, WorkerTap } from './worker.js';
import { startWorker, workerOldGenerationMb } from './worker-spawn.js';

export interface Processing {
  /** Threads doing the work (0: the main thread). */
  readonly threads: number;
  run(batch: LineBatch): Promise<ProcessResult>;
  /** Attaches `tailship tap` to the following batches (undefined: detaches it). */
  setTap(selector: TapSelector | undefined): void;
  close(): Promise<void>;
}

/** Why a whole batch failed: its worker thread died, or processing threw outside a line. */
export type BatchFailureCode = 'worker_died' | 'batch_failed';

/** What processing reports besides results: failures it recovered from, for logs and metrics. */
export interface ProcessingEvents {
  /**
   * Processing failed for a whole batch of `lines` lines (`worker_died`: its thread died;
   * `batch_failed`: it threw outside a line); the batch is processed again in parts.
   */
  batchFailed?(code: BatchFailureCode, reason: string, lines: number): void;
}

export async function startProcessing(setup: StagesSetup, workers: number, events: ProcessingEvents = {}): Promise<Processing> {
  if (workers === 0) return new InlineProcessing(await buildStages(setup), events);
  const pool = new WorkerPool(setup, workers, events);
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
  constructor(
    private readonly stages: ProcessStages,
    private readonly events: ProcessingEvents,
  ) {}

  run(batch: LineBatch): Promise<ProcessResult> {
    try {
      return Promise.resolve(processBatch(this.stages, batch));
    } catch (err) {
      // Thrown outside a line (processBatch dead-letters what a line throws): which line, if
      // any, is found by processing the batch again in parts. Sliced now: the batch's buffers go below.
      const kept = sliceBatch(batch, 0, batch.count);
      const failure = new BatchFailure(`processing threw: ${describe(err)}`);
      this.events.batchFailed?.('batch_failed', failure.message, batch.count);
      return isolateFailingLines(kept, failure, (part) => this.attempt(part));
    } finally {
      // As a worker does (worker.ts): the batch's buffers go now, not at the next full GC.
      releaseBuffers(transferables(batch));
    }
  }

  /** One part of a failed batch: a failure is the part's again, to be split further. */
  private async attempt(part: LineBatch): Promise<ProcessResult> {
    try {
      return processBatch(this.stages, part);
    } catch (err) {
      throw new BatchFailure(`processing threw: ${describe(err)}`);
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

interface Slot {
  worker: Worker;
  /** Jobs sent and not answered, oldest first: the oldest is the one being processed. */
  readonly waiting: Map<number, Waiting>;
  /** Resolves when the worker has built its stages. */
  readonly ready: Promise<void>;
  dead: boolean;
}

class WorkerPool implements Processing {
  private readonly slots: Slot[];
  private nextId = 1;
  /** Set when a worker could not start: the pipeline stops (what was not committed is read again next start). */
  private failed: Error | undefined;
  private closing = false;
  private tap: WorkerTap = { tap: null };

  /** Resolves when every worker has built its stages; rejects if one fails to (a config it cannot load). */
  readonly ready: Promise<void>;

  constructor(
    private readonly setup: StagesSetup,
    readonly threads: number,
    private readonly events: ProcessingEvents,
  ) {
    this.slots = Array.from({ length: threads }, () => this.spawn());
    this.ready = Promise.all(this.slots.map((s) => s.ready)).then(() => undefined);
    // Awaited by startProcessing; this keeps a failure seen there from also being unhandled.
    this.ready.catch(() => undefined);
  }

  /**
   * A batch on the least busy worker. If that worker dies while processing it, or processing
   * throws outside a line, the batch is processed again in parts to set the failing lines aside
   * (bisect.ts); if it dies while the batch only waited, the batch is sent again.
   */
  async run(batch: LineBatch): Promise<ProcessResult> {
    // The worker takes the batch's buffers: a copy is kept until it answers.
    const kept = sliceBatch(batch, 0, batch.count);
    try {
      return await this.attempt(batch, kept);
    } catch (err) {
      if (!(err instanceof BatchFailure)) throw err;
      this.events.batchFailed?.(err instanceof WorkerDied ? 'worker_died' : 'batch_failed', err.message, batch.count);
      return isolateFailingLines(kept, err, (part) => this.attempt(sliceBatch(part, 0, part.count), part));
    }
  }

  /**
   * Sends `batch` until it is processed or fails itself; a worker that died while the batch only
   * waited behind another job (the one that caused it) is no failure of the batch: `kept` is sent again.
   */
  private async attempt(batch: LineBatch, kept: LineBatch): Promise<ProcessResult> {
    for (let sent = 0; ; sent++) {
      try {
        return await this.send(sent === 0 ? batch : sliceBatch(kept, 0, kept.count));
      } catch (err) {
        if (!(err instanceof WorkerDied) || err.processing) throw err;
      }
    }
  }

  setTap(selector: TapSelector | undefined): void {
    this.tap = { tap: selector ?? null };
    for (const s of this.slots) s.worker.postMessage(this.tap);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) this.reject(s, () => new Error('processing stopped'));
  }

  private async send(batch: LineBatch): Promise<ProcessResult> {
    if (this.failed) throw this.failed;
    // The least busy worker: batches of a busy file spread over all of them.
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.waiting.size < slot.waiting.size) slot = s;
    // A worker started to replace a dead one takes jobs once it is ready.
    await slot.ready;
    if (this.failed) throw this.failed;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.waiting.set(id, { resolve, reject });
      const job: WorkerJob = { id, batch };
      slot.worker.postMessage(job, transferables(batch));
    });
  }

  /** A worker in a new slot, sent its setup (its first message, worker.ts) and the tap in force. */
  private spawn(): Slot {
    const worker = startWorker(workerOldGenerationMb(Math.max(...this.setup.pipeline.inputs.map((i) => i.max_line_bytes))));
    let started = false;
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => undefined);
    const slot: Slot = { worker, waiting: new Map(), ready, dead: false };
    worker.on('message', (m: WorkerMessage) => {
      if ('ready' in m) {
        started = true;
        settle.resolve();
        return;
      }
      const w = slot.waiting.get(m.id);
      if (!w) return;
      slot.waiting.delete(m.id);
      if ('error' in m) {
        const failure = new BatchFailure(`processing failed: ${m.error.message}`);
        if (m.error.stack) failure.stack = m.error.stack;
        w.reject(failure);
      }
      else w.resolve(m.result);
    });
    const died = (why: string, cause?: unknown): void => {
      if (slot.dead) return;
      slot.dead = true;
      if (!started) {
        const err = new TailshipError('TAILSHIP_WORKER_FAILED', `processing worker could not start: ${why}`, {}, cause === undefined ? {} : { cause });
        settle.reject(err);
        this.failed ??= err;
        this.reject(slot, () => err);
        return;
      }
      if (this.closing) return;
      // The job it was processing may have caused it; the others only waited behind it.
      let first = true;
      this.reject(slot, () => {
        const err = new WorkerDied(`processing worker died (${why})`, first);
        first = false;
        return err;
      });
      this.replace(slot);
    };
    // What a worker throws arrives as it was thrown, not always as an Error.
    worker.on('error', (thrown: unknown) => died(describe(thrown), thrown));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    worker.postMessage(this.setup);
    if (this.tap.tap) worker.postMessage(this.tap);
    return slot;
  }

  private replace(dead: Slot): void {
    const i = this.slots.indexOf(dead);
    if (i === -1) return;
    this.slots[i] = this.spawn();
    // Its error and exit events are handled; its thread is gone or going.
    void dead.worker.terminate().catch(() => undefined);
  }

  private reject(slot: Slot, err: () => Error): void {
    const waiting = [...slot.waiting.values()];
    slot.waiting.clear();
    for (const w of waiting) w.reject(err());
  }
}

/** The worker processing a job died; `processing`: this job was the one it was processing. */
class WorkerDied extends BatchFailure {
  constructor(
    message: string,
    readonly processing: boolean,
  ) {
    super(message);
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
