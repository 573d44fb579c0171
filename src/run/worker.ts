/**
 * A processing worker thread: builds its pipeline's stages once (then says it is ready), then
 * turns each LineBatch it is sent into queue chunks (run/process.ts) and sends them back
 * with the batch's id.
 */
import { parentPort } from 'node:worker_threads';
import { transferables, type LineBatch } from '../source/line-batch.js';
import { processBatch, type ProcessResult } from './process.js';
import { releaseBuffers } from './release.js';
import { buildStages, type StagesSetup } from './stages.js';
import { Tap, type TapSelector } from './tap.js';

export interface WorkerJob {
  id: number;
  batch: LineBatch;
}

/** Attaches (a selector) or detaches (null) `tailship tap` for the following jobs. */
export interface WorkerTap {
  tap: TapSelector | null;
}

export type WorkerMessage =
  | { ready: true }
  | { id: number; result: ProcessResult }
  | { id: number; error: { message: string; stack?: string | undefined } };

const port = parentPort!;
// The first message is the pipeline's setup. A failure here is the worker's 'error' event: the
// pool's start-up fails with it.
const setup = await new Promise<StagesSetup>((resolve) => port.once('message', resolve));
const stages = await buildStages(setup);
port.postMessage({ ready: true } satisfies WorkerMessage);
port.on('message', (message: WorkerJob | WorkerTap) => {
  if ('tap' in message) {
    stages.tap = message.tap ? new Tap(message.tap) : undefined;
    return;
  }
  const job = message;
  let reply: WorkerMessage;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = processBatch(stages, job.batch);
    for (const c of result.chunks) {
      // zlib's output is a view on a larger buffer (16 KiB, or Node's shared pool), which must not
      // be handed over: copy exactly its bytes into a buffer of their own (Buffer#slice would not).
      const own = new Uint8Array(c.payload as Uint8Array);
      c.payload = own;
      transfer.push(own.buffer as ArrayBuffer);
    }
    reply = { id: job.id, result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { id: job.id, error: { message: e.message, stack: e.stack } };
  }
  port.postMessage(reply, transfer);
  // The batch's lines are parsed, and no part of the result is a view on the buffers it came in.
  releaseBuffers(transferables(job.batch));
});
