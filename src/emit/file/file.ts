/**
 * File output: events as NDJSON appended to a file, rotated by size. Before a write that would
 * take the file past `max_file_bytes`, it becomes `<path>.1` (older ones shift to `.2`, ...; the
 * oldest beyond `max_files` is deleted). A batch counts as delivered once it is written and
 * fdatasync'ed, so a power loss cannot take back what was acknowledged.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { FileOptions } from './options.js';
import type { BatchLimits, DeliveryResult, Destination, RetryPolicy } from '../destination.js';

type Config = FileOptions & { name: string };

export class FileDestination implements Destination {
  readonly type = 'file';
  readonly name: string;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy = { baseMs: 200, capMs: 30_000, maxRetryAgeMs: 0 };
  readonly perEventOverhead = 1;
  private readonly path: string;
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private fh: FileHandle | undefined;
  private size = 0;

  constructor(cfg: Config) {
    this.name = cfg.name;
    this.path = cfg.path;
    this.maxFileBytes = cfg.max_file_bytes;
    this.maxFiles = cfg.max_files;
    // One write per batch, never larger than a file may grow.
    const maxBytes = Math.min(64 * 1024 * 1024, cfg.max_file_bytes);
    this.limits = { maxEvents: cfg.batch_size, maxBytes, maxMessageBytes: maxBytes, flushIntervalMs: cfg.flush_interval, concurrency: 1 };
  }

  async deliver(events: readonly string[]): Promise<DeliveryResult> {
    const data = Buffer.from(events.join('\n') + '\n');
    try {
      if (!this.fh) await this.openFile();
      if (this.size > 0 && this.size + data.length > this.maxFileBytes) await this.rotate();
      await this.fh!.write(data);
      await this.fh!.datasync();
      this.size += data.length;
      return { kind: 'ok' };
    } catch (err) {
      // The file may hold part of this batch now; it is written again whole (at-least-once).
      await this.closeFile();
      const e = err as NodeJS.ErrnoException;
      return { kind: 'retry', reason: `file ${this.path}: ${e.code ?? 'error'} (${e.message})` };
    }
  }

  async close(): Promise<void> {
    await this.closeFile();
  }

  private async openFile(): Promise<void> {
    this.fh = await open(this.path, 'a');
    this.size = (await this.fh.stat()).size;
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  private async rotate(): Promise<void> {
    await this.closeFile();
    await rm(`${this.path}.${this.maxFiles}`, { force: true });
    for (let k = this.maxFiles - 1; k >= 1; k--) await rename(`${this.path}.${k}`, `${this.path}.${k + 1}`).catch(ignoreMissing);
    await rename(this.path, `${this.path}.1`);
    await this.openFile();
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
