/**
 * One pipeline at run time: its inputs' files → framed lines → (joiner) → processing (parse,
 * map, encode, compress: on worker threads, run/workers.ts) → ONE store transaction per
 * read with the file's new offset and the tailer's decisions before it (files found, truncated,
 * removed), in read order: nothing else writes file states. Files take turns, each reading at most
 * max_read_bytes per turn, while up to a few reads are being processed; reading pauses while
 * the queue is over its high-water mark. The committed offset never passes a line that is not
 * yet in the queue: a partial line or an unfinished multiline group is read again after a
 * restart.
 */
import { systemClock, type Clock } from '../clock.js';
import type { InputConfig, PipelineConfig } from '../config/schema.js';
import { Discovery } from '../source/discovery.js';
import type { LineJoiner } from '../source/line.js';
import type { FileReader } from '../source/reader.js';
import { Tailer, type Read, type SourceChanges, type SourceEvents } from '../source/tailer.js';
import type { FileState, Store } from '../store/store.js';
import { isTransientStoreError, storeRetryDelayMs } from '../store/transient.js';
import type { Backpressure } from './backpressure.js';
import type { LineAccount } from '../store/line-accounts.js';
import { emptyOutcomes } from '../store/line-outcomes.js';
import { emptyResult, type ProcessCounts, type ProcessResult } from './process.js';
import type { StagesSetup } from './stages.js';
import type { TapBatch, TapSelector } from './tap.js';
import { startProcessing, type BatchFailureCode, type Processing } from './workers.js';

export interface PipelineEvents extends SourceEvents {
  /** What one read's lines became; `file` is the path read, for per-file metrics. */
  processed(pipeline: string, counts: ProcessCounts, file: string): void;
  /** Lines held back (an unfinished last line, an open multiline group) dropped because their file was truncated. */
  linesDroppedAtTruncation?(pipeline: string, file: string, lines: number): void;
  /**
   * Processing failed for a whole batch (`worker_died`: its processing thread died and was
   * replaced; `batch_failed`: it threw outside a line): the batch is processed again in parts,
   * and the lines that fail on their own become parse dead letters.
   */
  processingFailed?(pipeline: string, code: BatchFailureCode, reason: string, lines: number): void;
  /** Lines that became dead letters here (parse or mapping failures). */
  linesDeadLettered?(pipeline: string, kind: 'parse' | 'mapping', count: number): void;
  committed(pipeline: string, events: number, ms: number): void;
  /** A commit failed because the store cannot write (disk full, I/O error); reading is paused. */
  storeUnavailable?(pipeline: string, err: unknown, retryInMs: number, failures: number): void;
  /** The held commit went through after `pausedMs`; reading goes on. */
  storeRecovered?(pipeline: string, pausedMs: number): void;
  /** Copies of committed events for `tailship tap` (only while a selector is set). */
  tapped?(pipeline: string, batch: TapBatch): void;
  /** An input's globs matched no file at start (a typo, or files not there yet). */
  noFileMatched?(pipeline: string, globs: readonly string[]): void;
}

export interface PipelineParts {
  readonly config: PipelineConfig;
  /** What the processing threads build their parser, mapper and encoders from. */
  readonly stages: StagesSetup;
  /** Processing threads (0: on the main thread). */
  readonly workers: number;
  /** A fresh joiner per file (multiline, container partial lines), when configured. */
  readonly newJoiner?: (() => LineJoiner) | undefined;
}

interface InputRuntime {
  readonly input: InputConfig;
  readonly tailer: Tailer;
  readonly discovery: Discovery;
  /** Paths to look at (found by discovery, or left behind by a rotation): added between commits. */
  readonly newPaths: Set<string>;
}

/** A read handed to processing, committed when its turn in read order comes. */
interface PendingCommit {
  readonly path: string;
  /** The file life the lines were read from (the state's may be a newer life after a truncation). */
  readonly fileKey: string;
  /** The file's state once this read is committed (undefined: only the tailer's decisions). */
  readonly state: FileState | undefined;
  /** The tailer's decisions before this read, written first. */
  readonly changes: SourceChanges | undefined;
  readonly readAtMs: number;
  readonly startedAt: number;
  readonly result: Promise<ProcessResult>;
  /** The result came back (or the processing failed). */
  done: boolean;
}

/** How long stop() waits for the reads in flight before it stops the processing threads. */
const STOP_WAIT_MS = 5_000;

export class Pipeline {
  readonly name: string;
  /** Files the inputs' globs matched when the pipeline started. */
  filesMatchedAtStart = 0;
  private readonly inputs: InputRuntime[];
  private readonly buf: Buffer;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Ends the wait before a held commit's retry; new files and commits elsewhere do not. */
  private retryNow: (() => void) | undefined;
  private readonly clock: Clock;
  /** In --once mode: resolves when every file was read to its end. */
  private caughtUp: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  readonly caughtUpPromise: Promise<void>;
  /** Reads being processed, oldest first: committed in this order. */
  private readonly pending: PendingCommit[] = [];
  /** Enough reads in flight to keep every worker busy while the main thread reads and commits. */
  private readonly maxPending: number;
  /** Started with the pipeline. */
  private processing: Processing | undefined;
  /** The store refused the oldest pending commit for now (disk full): retried before anything else. */
  private held: { since: number; failures: number } | undefined;
  /** What `tailship tap` asks the processing stages to copy out (undefined: no viewer). */
  private tapSelector: TapSelector | undefined;

  constructor(
    private readonly parts: PipelineParts,
    private readonly store: Store,
    private readonly backpressure: Backpressure,
    private readonly events: PipelineEvents,
    private readonly onCommitted: () => void,
    private readonly options: {
      once?: boolean;
      /** The pipeline stopped on an error (a processing thread died, the store failed for good). */
      onFailed?: (err: unknown) => void;
      /** Reading caught up with every file and all it read is committed (after reading something). */
      onCaughtUp?: () => void;
      /** Time for reads, polls and retries (default: the system's). */
      clock?: Clock;
    } = {},
  ) {
    this.name = parts.config.name;
    this.clock = options.clock ?? systemClock;
    this.buf = Buffer.allocUnsafe(Math.max(...parts.config.inputs.map((i) => i.max_read_bytes)));
    this.maxPending = Math.max(2, 2 * parts.workers);
    const stored = store.files.forPipeline(this.name);
    this.inputs = parts.config.inputs.map((input) => {
      const tailer = new Tailer(this.name, input, stored, events, () => this.clock.now(), parts.newJoiner);
      const newPaths = new Set<string>();
      const discovery = new Discovery(
        { include: input.paths, exclude: input.exclude, includeCompressed: input.include_compressed, rescanMs: input.rescan_interval },
        (file) => {
          newPaths.add(file);
          this.wake();
        },
        (err) => events.readError(input.paths.join(','), err),
      );
      return { input, tailer, discovery, newPaths };
    });
    this.caughtUpPromise = new Promise((resolve, reject) => (this.caughtUp = { resolve, reject }));
    // A failure is reported through onFailed / finished(); this only keeps it from being unhandled twice.
    this.caughtUpPromise.catch(() => undefined);
  }

  async start(): Promise<void> {
    this.processing = await startProcessing(this.parts.stages, this.parts.workers, {
      batchFailed: (code, reason, lines) => this.events.processingFailed?.(this.name, code, reason, lines),
    });
    if (this.tapSelector) this.processing.setTap(this.tapSelector);
    for (const rt of this.inputs) {
      let n = 0;
      const add = (f: string): void => {
        rt.tailer.addPath(f);
        n++;
      };
      if (this.options.once) {
        for (const f of await rt.discovery.scan()) add(f);
      } else {
        await rt.discovery.start();
        // Live: a path addPath adds to the set (a rotation seen meanwhile) is taken too.
        for (const f of rt.newPaths) add(f);
        rt.newPaths.clear();
      }
      this.filesMatchedAtStart += n;
      if (n === 0) this.events.noFileMatched?.(this.name, rt.input.paths);
      rt.tailer.markInitialScanDone();
      this.submitChanges(rt);
      this.store.lineAccounts.purgeForgotten(this.name);
    }
    this.running = true;
    this.loopDone = this.loop().catch((err: unknown) => {
      // Nothing read and not committed is lost: it is read again at the next start.
      this.running = false;
      this.caughtUp?.reject(err);
      if (!this.options.onFailed) throw err;
      this.options.onFailed(err);
    });
  }

  /** Stops reading after the current turn; everything read so far is committed. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    this.retryHeldNow();
    this.backpressure.releaseAll();
    try {
      // A processing thread stuck on a line would hold the last commits forever: after a while
      // the threads are stopped, which fails those reads (they are read again at the next start).
      const giveUp = new AbortController();
      const waited = await Promise.race([this.loopDone?.then(() => true), this.clock.sleep(STOP_WAIT_MS, giveUp.signal).then(() => false)]);
      giveUp.abort();
      if (waited === false) {
        await this.processing?.close();
        await this.loopDone;
      }
    } finally {
      for (const rt of this.inputs) {
        await rt.discovery.close();
        rt.tailer.closeAll();
      }
      await this.processing?.close();
    }
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Attaches `tailship tap` (a selector) or detaches it (undefined). */
  setTap(selector: TapSelector | undefined): void {
    this.tapSelector = selector;
    this.processing?.setTap(selector);
  }

  /** The store has room again (its disk reserve is back): a held commit is tried at once. */
  retryHeldNow(): void {
    const r = this.retryNow;
    this.retryNow = undefined;
    r?.();
  }

  trackedFiles(): FileReader[] {
    return this.inputs.flatMap((rt) => rt.tailer.tracked());
  }

  private async loop(): Promise<void> {
    const pollMs = Math.min(...this.inputs.map((rt) => rt.input.poll_interval));
    let maintainedAt = 0;
    /** Something was read since the pipeline last caught up. */
    let reading = false;
    while (this.running) {
      if (this.held) {
        await this.retryHeld();
        continue;
      }
      if (this.backpressure.isPaused) {
        await this.commitAll();
        await this.backpressure.whenOpen();
        continue;
      }
      const maintain = this.clock.now() - maintainedAt >= pollMs;
      if (maintain || this.inputs.some((rt) => rt.newPaths.size > 0)) {
        // Files are added, reopened and recognised as copies with every read committed: their
        // decisions are committed after those reads, and none are taken while the store refuses.
        await this.commitAll();
        if (this.held) continue;
        if (maintain) {
          maintainedAt = this.clock.now();
          // Closed handles (open-file budget, inactivity): reopen grown files, notice moved ones.
          for (const rt of this.inputs) for (const p of rt.tailer.maintain()) rt.newPaths.add(p);
        }
        for (const rt of this.inputs) {
          for (const p of rt.newPaths) rt.tailer.addPath(p);
          rt.newPaths.clear();
          this.submitChanges(rt);
        }
      }
      let readBytes = 0;
      for (const rt of this.inputs) {
        for (const f of rt.tailer.tracked()) {
          if (!this.running || this.held) break;
          if (this.pending.length >= this.maxPending) {
            await this.commitNext();
            if (this.held) break;
          }
          readBytes += this.turn(rt, f);
        }
      }
      if (readBytes > 0) {
        reading = true;
        // Let the emitters and timers run between turns.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      await this.commitAll();
      if (this.held) continue;
      if (reading) {
        reading = false;
        this.options.onCaughtUp?.();
      }
      if (this.options.once) {
        this.flushAll();
        await this.commitAll();
        if (this.held) continue;
        this.caughtUp?.resolve();
        return;
      }
      if (this.inputs.some((rt) => rt.newPaths.size > 0)) continue;
      // Not unref'd: this sleep is what keeps a daemon with idle files alive.
      const woken = new AbortController();
      this.wakeUp = () => woken.abort();
      await this.clock.sleep(pollMs, woken.signal);
      this.wakeUp = undefined;
    }
    // Stopping: what was read is committed (unless the store refuses: then it is read again next start).
    await this.commitAll();
  }

  /** Reads one chunk of one file and hands its lines to processing; returns bytes read. */
  private turn(rt: InputRuntime, f: FileReader): number {
    const read = rt.tailer.read(f, this.buf);
    this.submit(read);
    if (read.bytes === 0) {
      for (const p of rt.tailer.check(f)) rt.newPaths.add(p);
      this.submitChanges(rt);
    }
    return read.bytes;
  }

  /** At the end of a --once run: everything held back (partial lines, open groups) is emitted. */
  private flushAll(): void {
    for (const rt of this.inputs) for (const f of rt.tailer.tracked()) this.submit(rt.tailer.flush(f));
  }

  /** The tailer's decisions not carried by a read yet: committed in their turn. */
  private submitChanges(rt: InputRuntime): void {
    const changes = rt.tailer.takeChanges();
    if (changes) this.submit({ path: '', fileKey: '', bytes: 0, lines: undefined, state: undefined, changes });
  }

  /** Hands a read's lines to processing and queues its commit (nothing when the read found nothing). */
  private submit(read: Read): void {
    if (!read.lines && !read.state && !read.changes) return;
    for (const d of read.changes?.dropped ?? []) this.events.linesDroppedAtTruncation?.(this.name, d.path, d.lines);
    const result = read.lines ? this.processing!.run(read.lines) : Promise.resolve(emptyResult());
    const now = this.clock.now();
    const pending: PendingCommit = {
      path: read.path, fileKey: read.fileKey, state: read.state, changes: read.changes, readAtMs: read.lines?.readAtMs ?? now, startedAt: now, result, done: false,
    };
    // Also marks a rejection handled: commitNext() awaits it in order and stops the pipeline then.
    const settle = (): void => void (pending.done = true);
    result.then(settle, settle);
    this.pending.push(pending);
  }

  /**
   * How long the oldest read still being processed has been (0 when none): a processing thread
   * stuck on a line (a parser plugin that never returns) does not block the main thread, so
   * liveness asks here (daemon.ts, /healthz).
   */
  processingForMs(now = this.clock.now()): number {
    const stuck = this.pending.find((p) => !p.done);
    return stuck ? now - stuck.startedAt : 0;
  }

  private async commitAll(): Promise<void> {
    while (this.pending.length > 0 && !this.held) await this.commitNext();
  }

  /**
   * Commits the oldest pending read once processed. If the store cannot write now (disk full or
   * failing), the read stays pending and held (the offset did not move, so a crash loses
   * nothing) and nothing more is read until a retry (retryHeld) goes through.
   */
  private async commitNext(): Promise<void> {
    const next = this.pending[0];
    if (!next) return;
    const result = await next.result;
    try {
      this.commit(next, result);
    } catch (err) {
      if (!isTransientStoreError(err)) throw err;
      if (this.held) this.held.failures++;
      else this.held = { since: this.clock.now(), failures: 0 };
      this.events.storeUnavailable?.(this.name, err, storeRetryDelayMs(this.held.failures), this.held.failures + 1);
      return;
    }
    if (this.held) {
      this.events.storeRecovered?.(this.name, this.clock.now() - this.held.since);
      this.held = undefined;
    }
  }

  private commit(p: PendingCommit, r: ProcessResult): void {
    const { counts, letters } = r;
    const accounts: LineAccount[] = [];
    for (const d of p.changes?.dropped ?? []) accounts.push({ fileKey: d.fileKey, path: d.path, read: d.lines, outcomes: { ...emptyOutcomes(), droppedAtTruncation: d.lines } });
    if (counts.lines > 0) accounts.push({ fileKey: p.fileKey, path: p.path, read: counts.lines, outcomes: counts.outcomes });
    this.store.commit({ pipeline: this.name, fileChanges: p.changes?.files, file: p.state, chunks: r.chunks, deadLetters: letters, accounts }, p.readAtMs);
    this.pending.shift();
    if (!p.path) return; // only the tailer's decisions: nothing was read
    this.events.processed(this.name, counts, p.path);
    if (letters.length && this.events.linesDeadLettered) {
      const parse = letters.filter((l) => l.kind === 'parse').length;
      if (parse) this.events.linesDeadLettered(this.name, 'parse', parse);
      if (letters.length > parse) this.events.linesDeadLettered(this.name, 'mapping', letters.length - parse);
    }
    this.events.committed(this.name, counts.events, this.clock.now() - p.startedAt);
    if (r.tapped) this.events.tapped?.(this.name, r.tapped);
    if (counts.events) this.onCommitted();
  }

  /** Waits, then tries the held commit again. */
  private async retryHeld(): Promise<void> {
    const h = this.held!;
    // Only the timer, stop() or the store's room coming back end this wait: new files and
    // rescans (wake()) must not turn the retry delay into a busy loop.
    const now = new AbortController();
    this.retryNow = () => now.abort();
    await this.clock.sleep(storeRetryDelayMs(h.failures), now.signal);
    this.retryNow = undefined;
    if (this.running) await this.commitNext();
  }
}
