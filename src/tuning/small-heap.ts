/**
 * V8 lets the old generation grow far past what is live before a full collection: to an
 * initial limit sized from the machine's memory (~130 MiB here), then by a factor of up to 4 that
 * it picks from how fast it collects. tailship's live heap is small and bounded (the reads in
 * flight, their results, the modules), but a read's results outlive a scavenge while they wait
 * for their commit, so they are promoted and then die in the old generation. Under hostile input
 * (most lines dead letters) the main thread's old space held ~130 MiB of such garbage around a
 * live set of ~30 MiB. A fixed growing factor of 1.2 collects it while it is small. Nothing is
 * capped: the limit still follows the live set
 * (docs/decisions/0034-heaps-kept-near-their-live-set.md).
 *
 * V8 reads the factor each time it sets a new limit, so setting it at start-up applies to the
 * main thread and to every processing worker.
 *
 * Remove when V8's own sizing keeps small heaps near their live set, or when processing no
 * longer promotes per-read results (`npm run chaos -- --only hostile` without this file shows it).
 */
import { setFlagsFromString } from 'node:v8';

const HEAP_GROWING_PERCENT = 20;

export function keepHeapsSmall(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
