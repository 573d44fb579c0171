/**
 * A tailship child process under load, for the tests that watch it the way an operator does
 * (`tailship top`, `tailship tap`, the status page): a collector on 127.0.0.1, two nginx logs
 * written to all along (one with a 503 in every ten lines, some lines that do not parse), and the
 * ops server on a free port.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Collector } from './collector.js';
import { nginxLine, testConfig } from './config.js';
import { killIfRunning, startTailship, type Child } from './daemon.js';
import { freePort } from './port.js';
import { tempDir } from './tmp.js';

export interface BusyDaemon {
  readonly base: string;
  readonly files: readonly string[];
  readonly collector: Collector;
  stop(): Promise<void>;
}

export async function startBusyDaemon(): Promise<BusyDaemon> {
  const tmp = tempDir();
  const collector = await new Collector().start();
  let child: Child | undefined;
  let writer: NodeJS.Timeout | undefined;
  try {
    const port = await freePort();
    const files = [path.join(tmp.dir, 'shop-access.log'), path.join(tmp.dir, 'api-access.log')];
    for (const f of files) writeFileSync(f, '');
    const config = path.join(tmp.dir, 'tailship.yaml');
    writeFileSync(config, `server: { listen: "127.0.0.1:${port}" }\n` + testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url }));
    child = startTailship(['run', '--config', config]);
    let n = 0;
    // About 400 lines a second into the first file and 100 into the second, until stopped.
    writer = setInterval(() => {
      const batch = (k: number): string => Array.from({ length: k }, () => (++n % 97 === 0 ? 'not an nginx line' : nginxLine(n, n % 10 === 0 ? 503 : 200))).join('\n') + '\n';
      appendFileSync(files[0]!, batch(20));
      appendFileSync(files[1]!, batch(5));
    }, 50);
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (collector.accepted < 100) {
      if (Date.now() > deadline) throw new Error(`the daemon did not deliver within 30 s: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const c = child;
    const w = writer;
    return {
      base,
      files,
      collector,
      stop: async () => {
        clearInterval(w);
        await killIfRunning(c);
        await collector.stop();
        tmp.cleanup();
      },
    };
  } catch (err) {
    clearInterval(writer);
    await killIfRunning(child);
    await collector.stop();
    tmp.cleanup();
    throw err;
  }
}
