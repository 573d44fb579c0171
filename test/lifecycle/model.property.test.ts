/**
 * Model-based property test of the file lifecycle: random histories (appends of whole and partial
 * lines, rename rotation in and out of the globs with late writes, copytruncate, truncation,
 * deletion, new files and inode reuse, restarts by SIGTERM and SIGKILL with operations while the
 * daemon is down) against a real directory, the real daemon and the loopback collector. After each
 * history every line the model requires has arrived, every repeat carries the same messageId, and
 * nothing arrived that was not written. Runs are bounded (TAILSHIP_MODEL_RUNS, default 10, and a
 * time limit); shrunk counterexamples live in model.cases.test.ts.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeOps, LOGS, ModelRun, type Op } from './model.js';

const RUNS = Number(process.env.TAILSHIP_MODEL_RUNS ?? 10);
const TIME_LIMIT_MS = Number(process.env.TAILSHIP_MODEL_MS ?? 50_000);

const log = fc.constantFrom(...LOGS);
const pause = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 }));

const fileOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), log, lines: fc.integer({ min: 0, max: 40 }), partial: fc.boolean(), pauseMs: pause }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rotate' as const), log, late: fc.integer({ min: 0, max: 5 }), matchGlob: fc.boolean(), pauseMs: pause }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('copytruncate' as const), log, matchGlob: fc.boolean(), pauseMs: pause }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), log, pauseMs: pause }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), log, pauseMs: pause }) },
);

const restartOp: fc.Arbitrary<Op> = fc.record({
  op: fc.constant('restart' as const),
  signal: fc.constantFrom('SIGTERM' as const, 'SIGKILL' as const),
  downOps: fc.array(fileOp, { maxLength: 4 }),
});

const history = fc.array(fc.oneof({ weight: 8, arbitrary: fileOp }, { weight: 1, arbitrary: restartOp }), { minLength: 1, maxLength: 14 });

it(
  'delivers every line the model requires, with one messageId per line, over random lifecycles',
  async () => {
    let histories = 0;
    let kills = 0;
    let totals = { must: 0, may: 0, arrivals: 0, duplicates: 0 };
    await fc.assert(
      fc.asyncProperty(history, fc.boolean(), async (ops, forceKill) => {
        // Every few histories, make sure the daemon is SIGKILLed at least once mid-history.
        if (forceKill && !ops.some((o) => o.op === 'restart' && o.signal === 'SIGKILL')) {
          ops = [...ops.slice(0, Math.ceil(ops.length / 2)), { op: 'restart', signal: 'SIGKILL', downOps: [] }, ...ops.slice(Math.ceil(ops.length / 2))];
        }
        kills += ops.filter((o) => o.op === 'restart' && o.signal === 'SIGKILL').length;
        const r = await new ModelRun().run(ops).catch((err: Error) => {
          throw new Error(`${err.message}\nhistory: ${describeOps(ops)}`);
        });
        histories++;
        totals = { must: totals.must + r.must, may: totals.may + r.may, arrivals: totals.arrivals + r.arrivals, duplicates: totals.duplicates + r.duplicates };
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true },
    );
    console.log(`model: ${histories} histories, ${kills} SIGKILLs, ${totals.must} required lines, ${totals.may} optional, ${totals.arrivals} arrivals, ${totals.duplicates} repeats`);
    expect(histories).toBeGreaterThan(0);
  },
  TIME_LIMIT_MS + 70_000,
);
