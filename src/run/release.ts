/**
 * Frees buffers that are done with now, not at the next full GC. An ArrayBuffer's memory goes
 * when V8 collects its object; one that lived through two minor GCs (a line batch while it is
 * processed) sits in the old generation, whose full GCs V8 schedules by heap growth, not by the
 * memory such buffers hold. In the end-to-end benchmark, those dead buffers grew a worker's
 * external memory while they waited. Transferring a buffer
 * detaches it: its memory moves to a new, unreachable object that the next minor GC frees.
 * The buffers must not be used afterwards: they read as empty.
 */
export function releaseBuffers(buffers: readonly ArrayBufferLike[]): void {
  const transfer = buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
  if (transfer.length > 0) structuredClone(undefined, { transfer });
}
