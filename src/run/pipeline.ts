/**
 * One pipeline at run time: its inputs' files → framed lines → (joiner) → processing (parse,
 * map, encode, compress: on worker threads, run/workers.ts) → ONE store transaction per
 * read with the file's new offset, in read order. Files take turns, each reading at most
 * max_read_bytes per turn, while up to a few reads are being processed; reading pauses while
 * the queue is over its high-water mark. The committed offset never passes a line that is not
 * yet in the queue: a partial line or an unfinished multiline group is read again after a
 * restart.
 */
import { systemClock, type Clock } from '../clock.js';
import type { InputConfig, PipelineConfig } from '../config/schema.js';
import { Discovery } from '../source/discovery.js';
import type { Line, LineJoiner } from '../source/line.js';
import { Tailer, type SourceEvents, type TrackedFile } from '../source/tailer.js';
import type { FileState, Store } from '../store/store.js';
import { isTransientStoreError, storeRetryDelayMs } from '../store/transient.js';
import type { Backpressure } from './backpressure.js';
import { LineBatchBuilder, textBatch, type LineBatch } from './line-batch.js';
import type { LineAccount } from '../store/line-accounts.js';
import { emptyOutcomes } from './line-outcomes.js';
import { emptyResult, type ProcessCounts, type ProcessResult } from './process.js';
import type { StagesSetup } from './stages.js';
import type { TapBatch, TapSelector } from './tap.js';
import { startProcessing, type Processing } from './workers.js';

export interface PipelineEvents extends SourceEvents {
  /** What one read's lines became; `file` is the path read, for per-file metrics. */
  processed(pipeline: string, counts: ProcessCounts, file: string): void;
  /** Lines held back (an unfinished last line, an open multiline group) dropped because their file was truncated. */
  linesDroppedAtTruncation?(pipeline: string, file: string, lines: number): void;
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
  /** The file's state once this read is committed. */
  readonly state: FileState;
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
  /** Per file, the joiner and the file life (key) it holds lines of. */
  private readonly joiners = new WeakMap<TrackedFile, { key: string; joiner: LineJoiner }>();
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
  /** Lines dropped at truncations, per file life, not yet in a commit's accounting. */
  private readonly truncationDrops = new Map<string, { path: string; lines: number }>();

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
    this.inputs = parts.config.inputs.map((input) => {
      const sourceEvents: SourceEvents = Object.assign(Object.create(events) as SourceEvents, {
        partialLineDropped: (path: string, fileKey: string) => this.droppedAtTruncation(path, fileKey, 1),
      });
      const tailer = new Tailer(this.name, input, store.files, sourceEvents, () => this.clock.now());
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
    this.processing = await startProcessing(this.parts.stages, this.parts.workers);
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
      const purgeBefore = this.clock.now() - rt.input.clean_removed_after;
      this.store.files.purgeRemoved(this.name, purgeBefore);
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

  trackedFiles(): TrackedFile[] {
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
        // Files are added, reopened and recognised as copies only with every read committed:
        // those decisions read and write file states in the store.
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
  private turn(rt: InputRuntime, f: TrackedFile): number {
    let n: number;
    let batch: LineBatch | undefined;
    if (!this.parts.newJoiner) {
      const builder = new LineBatchBuilder(this.buf.length);
      n = rt.tailer.read(f, this.buf, builder);
      if (builder.lines > 0) batch = builder.finish(f.path, f.key, this.clock.now());
    } else {
      const lines: Line[] = [];
      n = rt.tailer.read(f, this.buf, lines);
      // After the read: a read that finds the file truncated starts a new life (a new key), whose
      // lines must not join (or time out as) the old life's groups.
      const joiner = this.joinerFor(f)!;
      const now = this.clock.now();
      const ready: Line[] = [];
      for (const l of lines) ready.push(...joiner.push(l, now));
      ready.push(...joiner.tick(now));
      if (ready.length > 0) batch = textBatch(ready, f.path, f.key, now);
    }
    if (batch || (n > 0 && this.committedOffset(f) !== f.state.offset)) this.submit(rt, f, batch);
    if (n === 0) {
      for (const p of rt.tailer.check(f)) rt.newPaths.add(p);
    }
    return n;
  }

  /** At the end of a --once run: everything held back (partial lines, open groups) is emitted. */
  private flushAll(): void {
    for (const rt of this.inputs) {
      for (const f of rt.tailer.tracked()) {
        const rest: Line[] = [];
        const joiner = this.joinerFor(f);
        if (joiner) {
          const partial: Line[] = [];
          f.framer.takePartial(partial);
          for (const l of partial) rest.push(...joiner.push(l, this.clock.now()));
          rest.push(...joiner.flush());
        } else f.framer.takePartial(rest);
        if (rest.length) this.submit(rt, f, textBatch(rest, f.path, f.key, this.clock.now()));
      }
    }
  }

  private joinerFor(f: TrackedFile): LineJoiner | undefined {
    if (!this.parts.newJoiner) return undefined;
    let j = this.joiners.get(f);
    // A new life of the file (truncated in place): lines held from the old life must not join
    // the new life's lines. They are not lost to the store: the committed offset stayed before
    // them, so a copytruncate copy inside the globs is read from there (src/source/copies.ts).
    if (!j || j.key !== f.key) {
      if (j) {
        const dropped = j.joiner.flush().reduce((n, l) => n + (l.lines ?? 1), 0);
        if (dropped > 0) this.droppedAtTruncation(f.path, j.key, dropped);
      }
      j = { key: f.key, joiner: this.parts.newJoiner() };
      this.joiners.set(f, j);
    }
    return j.joiner;
  }

  /** Where reading may resume after a crash: before anything still held back. */
  private committedOffset(f: TrackedFile): number {
    const held = [f.framer.pendingStart(), this.joinerFor(f)?.pendingStart()].filter((x): x is number => x !== undefined);
    return held.length ? Math.min(...held) : f.readOffset;
  }

  /**
   * Hands a read's lines to processing and queues its commit. The file's state is taken now,
   * while the bytes it fingerprints are at hand, and becomes the file's state at once: the
   * commits run in read order, so later reads and file decisions may build on it.
   */
  private submit(rt: InputRuntime, f: TrackedFile, batch: LineBatch | undefined): void {
    const offset = this.committedOffset(f);
    const state = f.fd !== undefined ? rt.tailer.stateAt(f, offset) : { ...f.state, offset };
    rt.tailer.committed(f, state);
    const result = batch ? this.processing!.run(batch) : Promise.resolve(emptyResult());
    const pending: PendingCommit = { path: f.path, fileKey: batch?.fileKey ?? state.fileKey, state, readAtMs: batch?.readAtMs ?? this.clock.now(), startedAt: this.clock.now(), result, done: false };
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

  /**
   * Held-back lines of a file life were dropped by a truncation: counted as read and dropped, in
   * the next commit. (If a copy of the file holds them, they are read again from there.)
   */
  private droppedAtTruncation(path: string, fileKey: string, lines: number): void {
    const d = this.truncationDrops.get(fileKey);
    if (d) d.lines += lines;
    else this.truncationDrops.set(fileKey, { path, lines });
    this.events.linesDroppedAtTruncation?.(this.name, path, lines);
  }

  private commit(p: PendingCommit, r: ProcessResult): void {
    const { counts, letters } = r;
    const accounts: LineAccount[] = [];
    if (counts.lines > 0) accounts.push({ fileKey: p.fileKey, path: p.path, read: counts.lines, outcomes: counts.outcomes });
    for (const [fileKey, d] of this.truncationDrops) accounts.push({ fileKey, path: d.path, read: d.lines, outcomes: { ...emptyOutcomes(), droppedAtTruncation: d.lines } });
    this.store.commit({ pipeline: this.name, file: p.state, chunks: r.chunks, deadLetters: letters, accounts }, p.readAtMs);
    this.truncationDrops.clear();
    this.pending.shift();
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
