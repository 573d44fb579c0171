import type { Clock } from '../../src/clock.js';

/**
 * A clock that moves only when the test says so. Sleepers wake in due order when `advance`
 * passes their time; `sleeping` lets a test wait until the code under test is parked.
 */
export class FakeClock implements Clock {
  private current: number;
  private sleepers: { at: number; wake: () => void }[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = {
        at: this.current + Math.max(0, ms),
        wake: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** How many sleeps are pending, and the durations they were asked for from now. */
  get sleeping(): number[] {
    return this.sleepers.map((s) => s.at - this.current);
  }

  /** Moves time forward, waking every sleeper due by then, in order. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    for (;;) {
      const next = this.sleepers.filter((s) => s.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.current = next.at;
      next.wake();
      await new Promise((r) => setImmediate(r));
    }
    this.current = until;
  }
}
