/**
 * Room kept aside on the state directory's file system, so that a full disk is never a dead end.
 * SQLite needs to WRITE to delete: an acknowledgement appends the changed pages to the WAL, and
 * moving the WAL into the database grows the database first. With the disk full of queued rows,
 * acknowledging would fail and the queue could never drain. So the store keeps a file of real
 * (not sparse) bytes beside the database; when an acknowledgement or a dead-lettering finds the
 * disk full, the file is deleted, and the room it held is what lets the queue drain. New events
 * are not committed again until the reserve is back (docs/decisions/0025-a-full-disk-a-reserve-file-spent.md).
 */
import { closeSync, openSync, statSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export const RESERVE_FILE = 'tailship.reserve';
const MIB = 1024 * 1024;
/** Written in pieces of this size: a full disk stops the write at a piece, not at a byte. */
const PIECE = Buffer.alloc(256 * 1024);

/**
 * How much to keep: an eighth of the file system, at least 2 MiB (twice the WAL's size limit,
 * store.ts: room to move the WAL into the database and to write the deletes) and at most 4 MiB
 * (written at each start: a larger file slowed start-up on a busy disk).
 */
export function reserveSizeFor(dir: string): number {
  const fs = statfsSync(dir);
  return Math.max(2 * MIB, Math.min(4 * MIB, Math.floor((fs.blocks * fs.bsize) / 8 / MIB) * MIB));
}

/** Bytes free on the file system holding `dir`, for an unprivileged writer. */
export function freeBytes(dir: string): number {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize;
}

export class DiskReserve {
  readonly file: string;

  constructor(
    private readonly dir: string,
    readonly size: number,
  ) {
    this.file = path.join(dir, RESERVE_FILE);
  }

  /** True when the reserve file is there, whole. */
  get held(): boolean {
    try {
      return statSync(this.file).size >= this.size;
    } catch {
      return false;
    }
  }

  /** Whether the file system has room for the reserve and `headroom` besides. */
  fits(headroom = 0): boolean {
    return freeBytes(this.dir) >= this.size + headroom;
  }

  /**
   * Makes the reserve file whole; false when the disk has no room for it (then no partial file
   * is left behind). `headroom`: room that must stay free besides the reserve, so that a
   * reserve taken back does not at once leave the queue without room again.
   */
  take(headroom = 0): boolean {
    if (this.held) return true;
    if (!this.fits(headroom)) return false;
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'w', 0o600);
      for (let written = 0; written < this.size; ) written += writeSync(fd, PIECE, 0, Math.min(PIECE.length, this.size - written));
      closeSync(fd);
      return true;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      this.release();
      if (isNoSpace(err)) return false;
      throw err;
    }
  }

  /** Frees the reserve's room; true when there was a reserve to free. */
  release(): boolean {
    try {
      unlinkSync(this.file);
      return true;
    } catch {
      return false;
    }
  }
}

/** The file system is full (or the user's quota is). */
export function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}
