/**
 * Backpressure: the queue's size (rows and bytes, all outputs) against its high-water marks.
 * Above either mark, reading pauses; it resumes once both are below `resume_ratio` of the marks.
 * Memory stays flat however large the backlog: the backlog stays on disk, in the files.
 */
import { systemClock, type Clock } from '../clock.js';

export interface BackpressureLimits {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly resumeRatio: number;
}

export class Backpressure {
  private rows = 0;
  private bytes = 0;
  private paused = false;
  private waiters: Array<() => void> = [];
  /** Total milliseconds spent paused, for metrics. */
  pausedMs = 0;
  private pausedSince = 0;

  constructor(
    private readonly limits: BackpressureLimits,
    private readonly onChange: (paused: boolean, rows: number, bytes: number) => void = () => {},
    private readonly clock: Clock = systemClock,
  ) {}

  /** Sets the depth (from the store at start-up, and after another process changed the queue). */
  init(rows: number, bytes: number): void {
    this.rows = rows;
    this.bytes = bytes;
    this.update();
  }

  change(rowsDelta: number, bytesDelta: number): void {
    this.rows += rowsDelta;
    this.bytes += bytesDelta;
    this.update();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Milliseconds spent paused so far, the current pause included. */
  pausedTotalMs(now = this.clock.now()): number {
    return this.pausedMs + (this.paused ? now - this.pausedSince : 0);
  }

  depth(): { rows: number; bytes: number } {
    return { rows: this.rows, bytes: this.bytes };
  }

  /** Resolves when reading may go on (at once when not paused). */
  whenOpen(): Promise<void> {
    return this.paused ? new Promise((r) => this.waiters.push(r)) : Promise.resolve();
  }

  /** Releases waiters without resuming (shutdown). */
  releaseAll(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((r) => r());
  }

  private update(): void {
    const { maxRows, maxBytes, resumeRatio } = this.limits;
    if (!this.paused && (this.rows >= maxRows || this.bytes >= maxBytes)) {
      this.paused = true;
      this.pausedSince = this.clock.now();
      this.onChange(true, this.rows, this.bytes);
    } else if (this.paused && this.rows < maxRows * resumeRatio && this.bytes < maxBytes * resumeRatio) {
      this.paused = false;
      this.pausedMs += this.clock.now() - this.pausedSince;
      this.onChange(false, this.rows, this.bytes);
      this.releaseAll();
    }
  }
}
