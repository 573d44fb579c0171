/**
 * One daemon per state store: a lock file holding the owner's pid, created exclusively. A lock
 * left by a process that no longer runs (SIGKILL, power loss) is taken over.
 */
import { readFileSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { TailshipError } from '../errors.js';
import { isNoSpace } from './reserve.js';
import { diskFullError } from './store.js';

export const LOCK_FILE = 'tailship.lock';

export function acquireLock(stateDir: string): () => void {
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (err) {
    if (isNoSpace(err)) throw diskFullError(stateDir, err);
    throw err;
  }
  const file = path.join(stateDir, LOCK_FILE);
  for (let tries = 0; tries < 3; tries++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if (isNoSpace(err)) throw diskFullError(stateDir, err);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new TailshipError('TAILSHIP_STORE_LOCKED', `state directory ${stateDir} is in use by another tailship (pid ${owner}); stop it or give this one another state_dir`);
      }
      unlinkSync(file); // stale: its owner is gone
    }
  }
  throw new TailshipError('TAILSHIP_STORE_LOCKED', `could not take the lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
