/**
 * Copies: recognises the copy of a truncated file (copytruncate's `access.log.1` inside the
 * globs) by content. A file life ended by truncation is remembered (key, head fingerprint,
 * committed offset, tail fingerprint); a new file with that head and the same bytes before that
 * offset is its copy, to be read from that offset under the same key, so that its lines get the
 * messageIds the original would have given them. Files that may be copies not yet complete, or
 * copies of a live file not yet truncated, wait and are judged again every poll.
 */
import { readSync } from 'node:fs';
import { fingerprintBytes, HEAD_FP_BYTES, headMatches, tailFingerprint } from './identity.js';

/** What was committed of a file life that ended by truncation. */
export interface PastLife {
  key: string;
  headFp: string;
  headLen: number;
  offset: number;
  tailFp: string;
}

/** A file being tailed, as far as copy detection needs it. */
export interface LiveHead {
  headFp: string;
  headLen: number;
  /** Open handle, to compare the first bytes of a copy still being written; undefined when closed. */
  fd: number | undefined;
}

/** A copy of a past life (read from `offset` under `life.key`), a backup of a live file (read from its end), or wait. */
export type CopyVerdict = { kind: 'copy'; life: PastLife; offset: number } | { kind: 'backup' } | { kind: 'wait' } | undefined;

/** A life with fewer committed bytes than this (about one short line) is not matched to copies. */
const MIN_COPY_HEAD = 16;
const MAX_PAST_LIVES = 16;
/** How long a copy of a live file waits for that file's truncation before it counts as a backup. */
export const COPY_WAIT_MS = 10_000;
/** How long an empty file found while running waits before it is taken as new (a copy may be starting). */
export const EMPTY_WAIT_MS = 1_000;

export class Copies {
  private readonly lives: { life: PastLife; atMs: number }[] = [];
  /** Paths that wait, with when they were first seen. */
  private readonly waiting = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** A file life ended by truncation (seen while running, or found at start-up). */
  remember(life: PastLife): void {
    this.lives.push({ life, atMs: this.now() });
    if (this.lives.length > MAX_PAST_LIVES) this.lives.shift();
  }

  /** Whether `key` names a remembered life. */
  knows(key: string): boolean {
    return this.lives.some((l) => l.life.key === key);
  }

  /** Paths to judge again now; forgets lives too old to still have a copy coming. */
  waitingPaths(): string[] {
    const now = this.now();
    while (this.lives.length && now - this.lives[0]!.atMs > 10 * COPY_WAIT_MS) this.lives.shift();
    return [...this.waiting.keys()];
  }

  /** The path was decided (or went away). */
  settled(path: string): void {
    this.waiting.delete(path);
  }

  /**
   * Judges a new file (no stored state for its inode) of `size` bytes open as `fd`. Compares bytes
   * only: a copy has its own inode and birth time. `running`: after the first scan (before it,
   * the originals may not be tracked yet, so nothing waits).
   */
  judge(path: string, fd: number, size: number, live: Iterable<LiveHead>, running: boolean): CopyVerdict {
    for (let i = this.lives.length - 1; i >= 0; i--) {
      const { life } = this.lives[i]!;
      if (life.headLen < MIN_COPY_HEAD || life.offset < MIN_COPY_HEAD || !headMatches(fd, size, '', life.headFp, life.headLen)) continue;
      // A copy shorter than the committed offset was read past its end through the original
      // (then only a full-length head is evidence enough).
      if (size < life.offset ? life.headLen < HEAD_FP_BYTES : tailFingerprint(fd, life.offset) !== life.tailFp) continue;
      this.lives.splice(i, 1);
      this.waiting.delete(path);
      return { kind: 'copy', life, offset: Math.min(life.offset, size) };
    }
    if (!running) return undefined;
    const since = this.waiting.get(path);
    const waited = since === undefined ? 0 : this.now() - since;
    let verdict: CopyVerdict;
    // A copy may be found while it is being written: an empty file, or one whose bytes so far
    // start a live file, waits to be seen again (nothing is lost: a new file is read from 0).
    if (size === 0) verdict = waited < EMPTY_WAIT_MS ? { kind: 'wait' } : undefined;
    else if (size < HEAD_FP_BYTES) verdict = waited < COPY_WAIT_MS && startsLive(fd, size, live) ? { kind: 'wait' } : undefined;
    else {
      for (const f of live) {
        // Only a full-length head: a new log that merely starts like another must not wait.
        if (f.headLen < HEAD_FP_BYTES || !headMatches(fd, size, '', f.headFp, f.headLen)) continue;
        // Not truncated within COPY_WAIT_MS: a plain copy (a backup) of content read already.
        verdict = waited < COPY_WAIT_MS ? { kind: 'wait' } : { kind: 'backup' };
        break;
      }
    }
    if (verdict?.kind === 'wait') {
      if (since === undefined) this.waiting.set(path, this.now());
    } else this.waiting.delete(path);
    return verdict;
  }
}

/**
 * Whether a small file (< HEAD_FP_BYTES) may be a copy of a live file: it has the live file's
 * committed head (compared by hash, which survives the live file's truncation), or its bytes so
 * far are the live file's first bytes (a copy being written; the original is intact then).
 */
function startsLive(fd: number, size: number, live: Iterable<LiveHead>): boolean {
  const mine = Buffer.alloc(size);
  if (readSync(fd, mine, 0, size, 0) !== size) return false;
  const theirs = Buffer.alloc(size);
  // Hashes of our first n bytes, per head length met (one hash each, not one per file).
  const ours = new Map<number, string>();
  for (const f of live) {
    if (f.headLen < MIN_COPY_HEAD) continue;
    if (size >= f.headLen) {
      let h = ours.get(f.headLen);
      if (h === undefined) ours.set(f.headLen, (h = fingerprintBytes(mine.subarray(0, f.headLen))));
      if (f.headFp === h || f.headFp.startsWith(`${h}@`)) return true;
      continue;
    }
    if (f.fd === undefined) continue;
    try {
      if (readSync(f.fd, theirs, 0, size, 0) === size && theirs.equals(mine)) return true;
    } catch {
      // unreadable: not evidence
    }
  }
  return false;
}
