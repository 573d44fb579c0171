/**
 * Smoke test of the benchmark harness (not of speed: no timing is asserted): the generated log
 * has the advertised shape, and one end-to-end run of the built CLI on a small log delivers
 * every line to the counting collector and reports the daemon's own CPU and memory.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt, ROOT } from '../helpers/daemon.js';

interface GenModule {
  generateLog(lines: number): { file: string; dir: string; lines: number; bytes: number };
}
interface E2eModule {
  runE2e(log: ReturnType<GenModule['generateLog']>): Promise<{ lines: number; linesPerSec: number; cpuUsPerLine: number; peakRssMb: number; requests: number }>;
}

// The harness runs from dist/ (it finds bin/ and its preload relative to itself).
const load = async <T>(name: string): Promise<T> => (await import(path.join(ROOT, 'dist/bench', `${name}.js`))) as T;

describe('benchmark harness', () => {
  it('generates nginx combined lines of about 210 bytes, ~2% of them 5xx', async () => {
    assertBuilt();
    const { generateLog } = await load<GenModule>('gen');
    const log = generateLog(5_000);
    try {
      const lines = readFileSync(log.file, 'utf8').split('\n').filter(Boolean);
      expect(lines).toHaveLength(5_000);
      expect(log.bytes / log.lines).toBeGreaterThan(150);
      expect(log.bytes / log.lines).toBeLessThan(260);
      expect(lines.every((l) => /^\S+ - \S+ \[[^\]]+\] "[A-Z]+ \S+ HTTP\/1\.1" \d{3} \d+ "[^"]*" "[^"]*"$/.test(l))).toBe(true);
      const errors = lines.filter((l) => / 50\d \d+ "/.test(l)).length;
      expect(errors).toBeGreaterThan(25);
      expect(errors).toBeLessThan(250);
    } finally {
      rmSync(log.dir, { recursive: true, force: true });
    }
  });

  it('ships a small log end to end and reports CPU and peak RSS of the daemon', async () => {
    assertBuilt();
    const { generateLog } = await load<GenModule>('gen');
    const { runE2e } = await load<E2eModule>('e2e');
    const log = generateLog(2_000);
    try {
      const r = await runE2e(log);
      expect(r.lines).toBe(2_000);
      // 250 per request at most: at least 8 requests.
      expect(r.requests).toBeGreaterThanOrEqual(8);
      expect(r.cpuUsPerLine).toBeGreaterThan(0);
      expect(r.peakRssMb).toBeGreaterThan(10);
      expect(r.linesPerSec).toBeGreaterThan(0);
    } finally {
      rmSync(log.dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('side by side with Fluent Bit', () => {
  interface VsModule {
    findFluentBit(): { bin: string; configs: string; version: string } | string;
    runFluentBit(fb: { bin: string; configs: string; version: string }, variant: 'flat' | 'envelope', log: ReturnType<GenModule['generateLog']>, timeoutMs?: number): Promise<{ linesPerSec: number; cpuUsPerLine: number; peakRssMb: number }>;
  }

  it('says where it looked when Fluent Bit is absent', async () => {
    assertBuilt();
    const { findFluentBit } = await load<VsModule>('vs-fluent-bit');
    const saved = process.env.TAILSHIP_FLUENT_BIT;
    process.env.TAILSHIP_FLUENT_BIT = '/nonexistent/fluent-bit';
    try {
      expect(findFluentBit()).toBe('no Fluent Bit binary at /nonexistent/fluent-bit (set TAILSHIP_FLUENT_BIT to one)');
    } finally {
      if (saved === undefined) delete process.env.TAILSHIP_FLUENT_BIT;
      else process.env.TAILSHIP_FLUENT_BIT = saved;
    }
  });

  it('counts every record of both Fluent Bit configurations at the collector, where Fluent Bit is present', async (ctx) => {
    assertBuilt();
    const { generateLog } = await load<GenModule>('gen');
    const { findFluentBit, runFluentBit } = await load<VsModule>('vs-fluent-bit');
    const fb = findFluentBit();
    if (typeof fb === 'string') return ctx.skip();
    const log = generateLog(2_000);
    try {
      for (const variant of ['flat', 'envelope'] as const) {
        const r = await runFluentBit(fb, variant, log, 60_000);
        expect(r.linesPerSec).toBeGreaterThan(0);
        expect(r.cpuUsPerLine).toBeGreaterThan(0);
        expect(r.peakRssMb).toBeGreaterThan(1);
      }
    } finally {
      rmSync(log.dir, { recursive: true, force: true });
    }
  }, 150_000);
});
