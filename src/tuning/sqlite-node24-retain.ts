/**
 * On Node ≥ 24, better-sqlite3 12's native objects (Database, Statement) abort the whole process
 * when the garbage collector destroys them outside a JS context ("RemoveEnvironmentCleanupHook:
 * Assertion failed: (env) != nullptr": Node 24's node::ObjectWrap removes a cleanup hook in its
 * destructor). So there every database opened through src/store/sqlite.ts, and every statement
 * its native `prepare` makes (including those of `pragma()` and `transaction()`), stays reachable
 * for the life of the process; Node frees them through its own cleanup hooks at exit. tailship
 * prepares its statements once per store, so what this keeps is small and bounded
 * (docs/decisions/0012-on-node-24-better-sqlite3-objects-are.md).
 *
 * Remove when the minimum Node is 22 and better-sqlite3 13 (which fixes it) is adopted, or when
 * tailship no longer supports Node 24 with better-sqlite3 12.
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { onDatabaseOpened } from '../store/sqlite.js';

const require = createRequire(import.meta.url);
/** Marks the wrapped native `prepare`, so that it is wrapped once per process. */
const WRAPPED = Symbol.for('tailship.sqlite.retaining-prepare');

type NativePrepare = ((...args: unknown[]) => object) & { [WRAPPED]?: object[] };

export function retainSqliteObjectsOnNode24(): void {
  if (Number(process.versions.node.split('.')[0]) < 24) return;
  onDatabaseOpened(retain);
}

function retain(db: Database.Database): void {
  const { cppdb } = require('better-sqlite3/lib/util.js') as { cppdb: symbol };
  const native = (db as unknown as Record<symbol, object>)[cppdb];
  if (!native) return;
  const proto = Object.getPrototypeOf(native) as { prepare: NativePrepare };
  let retained = proto.prepare[WRAPPED];
  if (!retained) {
    const kept: object[] = [];
    const prepare = proto.prepare;
    const wrapped: NativePrepare = function (this: object, ...args: unknown[]): object {
      const stmt = prepare.apply(this, args);
      kept.push(stmt);
      return stmt;
    };
    wrapped[WRAPPED] = kept;
    proto.prepare = wrapped;
    retained = kept;
  }
  retained.push(db, native);
}
