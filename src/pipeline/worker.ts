/**
 * A processing worker thread: builds its pipeline's stages once, then turns each LineBatch it
 * is sent into queue chunks (pipeline/process.ts) and sends them back with the batch's id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LineBatch } from './line-batch.js';
import { processBatch } from './process.js';
import { buildStages, type StagesSetup } from './stages.js';

export interface WorkerJob {
  id: number;
  batch: LineBatch;
}

export type WorkerReply = { id: number; result: ReturnType<typeof processBatch> } | { id: number; error: { message: string; stack?: string | undefined } };

const port = parentPort!;
const stages = await buildStages(workerData as StagesSetup);
port.on('message', (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    reply = { id: job.id, result: processBatch(stages, job.batch) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { id: job.id, error: { message: e.message, stack: e.stack } };
  }
  // Not transferred: the chunks' gzip buffers may share memory with others (Node's pool).
  port.postMessage(reply);
});
