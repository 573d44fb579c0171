/**
 * Test helper: a Tailer on a real SQLite store and real files, driven like the pipeline drives it
 * (read, commit the offset with the lines, check at end of file, maintain once per round), with a
 * recording SourceEvents. Lines are collected with the file key that would make their messageIds.
 */
import { inputSchema, type InputConfig } from '../../src/config/schema.js';
import type { LineBatch } from '../../src/source/line-batch.js';
import { Tailer, type SourceChanges, type SourceEvents } from '../../src/source/tailer.js';
import { Store } from '../../src/store/store.js';

export interface Got {
  key: string;
  start: number;
  text: string;
  truncated: boolean;
}

export class Recorder implements SourceEvents {
  readonly calls: [string, ...unknown[]][] = [];
  fileOpened(path: string, offset: number, reason: string): void {
    this.calls.push(['opened', path, offset, reason]);
  }
  fileReopened(path: string, offset: number): void {
    this.calls.push(['reopened', path, offset]);
  }
  fileRotated(path: string): void {
    this.calls.push(['rotated', path]);
  }
  fileTruncated(path: string): void {
    this.calls.push(['truncated', path]);
  }
  fileClosed(path: string, reason: string): void {
    this.calls.push(['closed', path, reason]);
  }
  fileRotatedUnread(path: string, bytes: number): void {
    this.calls.push(['rotatedUnread', path, bytes]);
  }
  lineTruncated(path: string): void {
    this.calls.push(['lineTruncated', path]);
  }
  readError(path: string, err: unknown): void {
    this.calls.push(['readError', path, String(err)]);
  }
  count(kind: string): number {
    return this.calls.filter((c) => c[0] === kind).length;
  }
  reasons(kind: string): unknown[] {
    return this.calls.filter((c) => c[0] === kind).map((c) => c.at(-1));
  }
}

export class Harness {
  store: Store;
  tailer!: Tailer;
  events = new Recorder();
  readonly got: Got[] = [];
  readonly input: InputConfig;
  clock: number | undefined;
  private readonly buf: Buffer;

  constructor(
    private readonly stateDir: string,
    input: Partial<InputConfig> & { paths: string[] },
  ) {
    this.input = inputSchema.parse({ start_at: 'beginning', ...input }) as InputConfig;
    this.buf = Buffer.allocUnsafe(this.input.max_read_bytes + 64);
    this.store = new Store(stateDir);
    this.newTailer();
  }

  now = (): number => this.clock ?? Date.now();

  private newTailer(): void {
    this.tailer = new Tailer('p', this.input, this.store.files.forPipeline('p'), this.events, this.now);
  }

  /** The first scan of a (re)started daemon. */
  start(paths: string[]): void {
    for (const p of paths) this.tailer.addPath(p);
    this.tailer.markInitialScanDone();
    this.commitChanges();
  }

  /** The tailer's decisions not carried by a read, committed as the pipeline does. */
  private commitChanges(changes: SourceChanges | undefined = this.tailer.takeChanges()): void {
    if (changes) this.store.commit({ pipeline: 'p', fileChanges: changes.files, chunks: [], deadLetters: [] });
  }

  /** Rounds of the pipeline loop until nothing is read (bounded). */
  pump(rounds = 50): void {
    for (let r = 0; r < rounds; r++) {
      let read = 0;
      for (const p of this.tailer.maintain()) this.tailer.addPath(p);
      this.commitChanges();
      for (const f of this.tailer.tracked()) {
        const r = this.tailer.read(f, this.buf);
        read += r.bytes;
        if (r.lines) this.got.push(...decode(r.lines));
        if (r.lines || r.state || r.changes) this.store.commit({ pipeline: 'p', fileChanges: r.changes?.files, file: r.state, chunks: [], deadLetters: [] });
        if (r.bytes === 0) for (const p of this.tailer.check(f)) this.tailer.addPath(p);
        this.commitChanges();
      }
      if (read === 0 && r > 1) break;
    }
  }

  /** Stop (or crash: the store keeps what was committed) and start again on the same state. */
  restart(paths: string[]): void {
    this.tailer.closeAll();
    this.store.close();
    this.store = new Store(this.stateDir);
    this.newTailer();
    this.start(paths);
  }

  texts(): string[] {
    return this.got.map((g) => g.text);
  }

  close(): void {
    this.tailer.closeAll();
    this.store.close();
  }
}

/** A batch's lines as text, with the file key that makes their messageIds. */
function decode(batch: LineBatch): Got[] {
  const got: Got[] = [];
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  for (let i = 0; i < batch.count; i++) {
    const text = bytes.toString('utf8', batch.spans[4 * i], batch.spans[4 * i + 1]);
    got.push({ key: batch.fileKey, start: batch.spans[4 * i + 2]!, text, truncated: batch.truncated.includes(i) });
  }
  return got;
}
