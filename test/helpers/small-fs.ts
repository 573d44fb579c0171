/**
 * A real small file system for disk-full tests: a tmpfs of a given size mounted on a fresh
 * temporary directory (needs root, as in CI and on the test machines). Where mounting is
 * impossible, `mountSmallFs` says why and the tests that need it are skipped with that reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SmallFs {
  dir: string;
  cleanup: () => void;
}

export function mountSmallFs(sizeBytes: number): SmallFs | { skip: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tailship-smallfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tailship-test', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
    return { skip: `cannot mount a ${sizeBytes}-byte tmpfs (needs root): ${why}` };
  }
  return {
    dir,
    cleanup: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Fills the file system with a file of zeros until it is full; returns the file's path. */
export function fillDisk(dir: string, name = 'filler'): string {
  const file = path.join(dir, name);
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=64k'], { stdio: 'pipe' });
  } catch {
    // dd stops with ENOSPC: the disk is full, which is the point
  }
  return file;
}
