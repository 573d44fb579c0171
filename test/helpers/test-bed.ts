/**
 * The set-up daemon tests share: before each test a temp folder and a collector on 127.0.0.1;
 * after it, even when it fails or times out, the daemon it started (a child process, killed
 * with its process group, or an in-process Daemon, stopped), the collector and the folder are
 * gone. Call it once at the top of a test file.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { Collector, type CollectorOptions } from './collector.js';
import { killIfRunning, type Child } from './daemon.js';
import { tempDir } from './tmp.js';

export interface TestBed {
  readonly tmp: ReturnType<typeof tempDir>;
  readonly collector: Collector;
  /** The daemon child process the test started, killed after it. */
  child: Child | undefined;
  /** The in-process daemon the test started, stopped after it. */
  daemon: Daemon | undefined;
}

export function useTestBed(collectorOptions: CollectorOptions = {}): TestBed {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let collector: Collector | undefined;
  const bed: TestBed = {
    get tmp() {
      if (!tmp) throw new Error('the test bed is set up in beforeEach: use it inside a test');
      return tmp;
    },
    get collector() {
      if (!collector) throw new Error('the test bed is set up in beforeEach: use it inside a test');
      return collector;
    },
    child: undefined,
    daemon: undefined,
  };
  beforeEach(async () => {
    tmp = tempDir();
    collector = await new Collector(collectorOptions).start();
  });
  afterEach(async () => {
    try {
      await killIfRunning(bed.child);
      await bed.daemon?.stop();
    } finally {
      bed.child = undefined;
      bed.daemon = undefined;
      await collector?.stop();
      collector = undefined;
      tmp?.cleanup();
      tmp = undefined;
    }
  });
  return bed;
}
