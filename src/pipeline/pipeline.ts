/**
 * One pipeline at run time: its inputs' files → framed lines → (joiner) → parser → mapper →
 * per-output encoded chunks → ONE store transaction with the file's new offset. Files take turns,
 * each reading at most max_read_bytes per turn; reading pauses while the queue is over its
 * high-water mark. The committed offset never passes a line that is not yet in the queue: a
 * partial line or an unfinished multiline group is read again after a restart.
 */
import type { InputConfig, PipelineConfig } from '../config/schema.js';
import { isParseError, type LogRecord, type Parser } from '../../parsers/types.js';
import type { Destination } from '../emit/destination.js';
import { Discovery } from '../source/discovery.js';
import type { Line, LineJoiner } from '../source/line.js';
import { Tailer, type SourceEvents, type TrackedFile } from '../source/tailer.js';
import type { DeadLetterInput, Store } from '../store/store.js';
import { isTransientStoreError, storeRetryDelayMs } from '../store/transient.js';
import type { Backpressure } from './backpressure.js';
import { ChunkBuilder } from './chunker.js';
import type { Mapper } from './event.js';

export interface PipelineEvents extends SourceEvents {
  /** `file` is the path read, for per-file metrics. */
  linesRead(pipeline: string, lines: number, bytes: number, file?: string): void;
  /** Lines that became dead letters here (parse or mapping failures). */
  linesDeadLettered?(pipeline: string, kind: 'parse' | 'mapping', count: number): void;
  parsed(pipeline: string, outcome: 'ok' | 'error' | 'raw'): void;
  mapped(pipeline: string, outcome: 'event' | 'error', count: number): void;
  committed(pipeline: string, events: number, ms: number): void;
  /** A commit failed because the store cannot write (disk full, I/O error); reading is paused. */
  storeUnavailable?(pipeline: string, err: unknown, retryInMs: number, failures: number): void;
  /** The held commit went through after `pausedMs`; reading goes on. */
  storeRecovered?(pipeline: string, pausedMs: number): void;
}

export interface PipelineParts {
  readonly config: PipelineConfig;
  readonly parser: Parser;
  readonly mapper: Mapper;
  readonly destinations: readonly Destination[];
  /** A fresh joiner per file (multiline, container partial lines), when configured. */
  readonly newJoiner?: (() => LineJoiner) | undefined;
}

interface InputRuntime {
  readonly input: InputConfig;
  readonly tailer: Tailer;
  readonly discovery: Discovery;
}

export class Pipeline {
  readonly name: string;
  private readonly inputs: InputRuntime[];
  /** Per file, the joiner and the file life (key) it holds lines of. */
  private readonly joiners = new WeakMap<TrackedFile, { key: string; joiner: LineJoiner }>();
  private readonly buf: Buffer;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** In --once mode: resolves when every file was read to its end. */
  private caughtUp: (() => void) | undefined;
  readonly caughtUpPromise: Promise<void>;
  /** A commit the store refused for now (disk full): held, retried before anything else is read. */
  private held: { commit: () => void; since: number; failures: number } | undefined;

  constructor(
    private readonly parts: PipelineParts,
    private readonly store: Store,
    private readonly backpressure: Backpressure,
    private readonly events: PipelineEvents,
    private readonly onCommitted: () => void,
    private readonly options: { once?: boolean } = {},
  ) {
    this.name = parts.config.name;
    this.buf = Buffer.allocUnsafe(Math.max(...parts.config.inputs.map((i) => i.max_read_bytes)));
    this.inputs = parts.config.inputs.map((input) => {
      const tailer = new Tailer(this.name, input, store.files, events);
      const discovery = new Discovery(
        { include: input.paths, exclude: input.exclude, includeCompressed: input.include_compressed, rescanMs: input.rescan_interval },
        (file) => {
          tailer.addPath(file);
          this.wake();
        },
        (err) => events.readError(input.paths.join(','), err),
      );
      return { input, tailer, discovery };
    });
    this.caughtUpPromise = new Promise((r) => (this.caughtUp = r));
  }

  async start(): Promise<void> {
    for (const rt of this.inputs) {
      if (this.options.once) {
        for (const f of await rt.discovery.scan()) rt.tailer.addPath(f);
      } else {
        await rt.discovery.start();
      }
      rt.tailer.markInitialScanDone();
      const purgeBefore = Date.now() - rt.input.clean_removed_after;
      this.store.files.purgeRemoved(this.name, purgeBefore);
    }
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Stops reading after the current turn; everything read so far is committed. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    this.backpressure.releaseAll();
    await this.loopDone;
    for (const rt of this.inputs) {
      await rt.discovery.close();
      rt.tailer.closeAll();
    }
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  trackedFiles(): TrackedFile[] {
    return this.inputs.flatMap((rt) => rt.tailer.tracked());
  }

  private async loop(): Promise<void> {
    const pollMs = Math.min(...this.inputs.map((rt) => rt.input.poll_interval));
    let maintainedAt = 0;
    while (this.running) {
      if (this.held) {
        await this.retryHeld();
        continue;
      }
      if (this.backpressure.isPaused) {
        await this.backpressure.whenOpen();
        continue;
      }
      if (Date.now() - maintainedAt >= pollMs) {
        // Closed handles (open-file budget, inactivity): reopen grown files, notice moved ones.
        maintainedAt = Date.now();
        for (const rt of this.inputs) for (const p of rt.tailer.maintain()) rt.tailer.addPath(p);
      }
      let readBytes = 0;
      for (const rt of this.inputs) {
        for (const f of rt.tailer.tracked()) {
          if (!this.running || this.held) break;
          readBytes += this.turn(rt, f);
        }
      }
      if (readBytes > 0) {
        // Let the emitters and timers run between turns.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (this.held) continue;
      if (this.options.once) {
        this.flushAll();
        if (this.held) continue;
        this.caughtUp?.();
        return;
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        // Not unref(): this timer is what keeps a daemon with idle files alive.
        setTimeout(() => this.wake(), pollMs);
      });
    }
  }

  /** Reads one chunk of one file and commits what it makes; returns bytes read. */
  private turn(rt: InputRuntime, f: TrackedFile): number {
    const lines: Line[] = [];
    const n = rt.tailer.read(f, this.buf, lines);
    const joiner = this.joinerFor(f);
    const now = Date.now();
    let ready = lines;
    if (joiner) {
      ready = [];
      for (const l of lines) ready.push(...joiner.push(l, now));
      ready.push(...joiner.tick(now));
    }
    if (ready.length > 0 || (n > 0 && this.committedOffset(f) !== f.state.offset)) this.process(rt.tailer, f, ready);
    if (n === 0) {
      for (const p of rt.tailer.check(f)) rt.tailer.addPath(p);
    }
    return n;
  }

  /** At the end of a --once run: everything held back (partial lines, open groups) is emitted. */
  private flushAll(): void {
    for (const rt of this.inputs) {
      for (const f of rt.tailer.tracked()) {
        const rest: Line[] = [];
        const partial = f.framer.takePartial();
        const joiner = this.joinerFor(f);
        if (joiner) {
          if (partial) rest.push(...joiner.push(partial, Date.now()));
          rest.push(...joiner.flush());
        } else if (partial) rest.push(partial);
        if (rest.length) this.process(rt.tailer, f, rest);
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

  private process(tailer: Tailer, f: TrackedFile, lines: Line[]): void {
    const t0 = performance.now();
    const { config, parser, mapper, destinations } = this.parts;
    const builders = destinations.map((d) => new ChunkBuilder(d.name, d.limits.maxEvents, d.limits.maxBytes, f.key));
    const letters: DeadLetterInput[] = [];
    const readAtMs = Date.now();
    let events = 0;
    let bytes = 0;
    for (const line of lines) {
      bytes += line.end - line.start;
      let record: LogRecord;
      const parsed = parser.parse(line.text, { file: f.path, offset: line.end });
      if (isParseError(parsed)) {
        if (config.on_parse_error === 'dead_letter') {
          this.events.parsed(this.name, 'error');
          letters.push({ kind: 'parse', reason: parsed.reason, file: f.path, offset: line.start, payload: line.text });
          continue;
        }
        if (config.on_parse_error === 'drop') {
          this.events.parsed(this.name, 'error');
          continue;
        }
        this.events.parsed(this.name, 'raw');
        record = { [config.raw_field]: line.text };
      } else {
        this.events.parsed(this.name, 'ok');
        record = parsed;
      }
      if (line.truncated) record._truncated = true;
      const outcomes = mapper.map(record, { fileKey: f.key, file: f.path, offset: line.start, readAtMs });
      for (const o of outcomes) {
        if (!o.ok) {
          this.events.mapped(this.name, 'error', 1);
          letters.push({ kind: 'mapping', reason: o.reason, file: f.path, offset: line.start, payload: line.text });
          continue;
        }
        events++;
        for (let i = 0; i < destinations.length; i++) builders[i]!.add(destinations[i]!.encode(o.event), line.start, line.end);
      }
    }
    this.events.linesRead(this.name, lines.length, bytes, f.path);
    if (events) this.events.mapped(this.name, 'event', events);
    const offset = this.committedOffset(f);
    const state = f.fd !== undefined ? tailer.stateAt(f, offset) : { ...f.state, offset };
    const batch = { pipeline: this.name, file: state, chunks: builders.flatMap((b) => b.finish()), deadLetters: letters };
    const commit = (): void => {
      this.store.commit(batch, readAtMs);
      if (letters.length && this.events.linesDeadLettered) {
        const parse = letters.filter((l) => l.kind === 'parse').length;
        if (parse) this.events.linesDeadLettered(this.name, 'parse', parse);
        if (letters.length > parse) this.events.linesDeadLettered(this.name, 'mapping', letters.length - parse);
      }
      tailer.committed(f, state);
      this.events.committed(this.name, events, performance.now() - t0);
      if (events) this.onCommitted();
    };
    try {
      commit();
    } catch (err) {
      // Disk full or failing: keep this one commit in memory (the offset did not move, so a
      // crash now loses nothing) and read no further until it goes through.
      if (!isTransientStoreError(err)) throw err;
      this.held = { commit, since: Date.now(), failures: 0 };
      this.events.storeUnavailable?.(this.name, err, storeRetryDelayMs(0), 1);
    }
  }

  /** Waits, then tries the held commit again. */
  private async retryHeld(): Promise<void> {
    const h = this.held!;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      setTimeout(() => this.wake(), storeRetryDelayMs(h.failures));
    });
    if (!this.running) return;
    try {
      h.commit();
      this.held = undefined;
      this.events.storeRecovered?.(this.name, Date.now() - h.since);
    } catch (err) {
      if (!isTransientStoreError(err)) throw err;
      h.failures++;
      this.events.storeUnavailable?.(this.name, err, storeRetryDelayMs(h.failures), h.failures + 1);
    }
  }
}
