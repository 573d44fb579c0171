/**
 * Opens better-sqlite3 databases. On Node ≥ 24, better-sqlite3 12's native objects (Database,
 * Statement) abort the whole process when the garbage collector destroys them outside a JS
 * context ("RemoveEnvironmentCleanupHook: Assertion failed: (env) != nullptr": Node 24's
 * node::ObjectWrap removes a cleanup hook in its destructor; better-sqlite3 13 fixes it but
 * needs Node ≥ 22). So there every database and every statement it prepares stays reachable
 * for the life of the process; Node frees them through its own cleanup hooks at exit. Our
 * statements are prepared once per store, so what this keeps is small and bounded.
 */
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';

const require = createRequire(import.meta.url);
const NEEDS_RETAIN = Number(process.versions.node.split('.')[0]) >= 24;
/** Never read: holding these is the point. */
const retained: object[] = [];
let prepareWrapped = false;

export function openDatabase(file: string, options: Database.Options): Database.Database {
  const db = new Database(file, options);
  if (NEEDS_RETAIN) retain(db);
  return db;
}

function retain(db: Database.Database): void {
  const { cppdb } = require('better-sqlite3/lib/util.js') as { cppdb: symbol };
  const native = (db as unknown as Record<symbol, object>)[cppdb];
  if (!native) return;
  retained.push(db, native);
  if (prepareWrapped) return;
  // Every statement, including the ones pragma() and transaction() prepare internally, comes
  // from the native prepare.
  const proto = Object.getPrototypeOf(native) as { prepare: (...args: unknown[]) => object };
  const prepare = proto.prepare;
  proto.prepare = function (this: object, ...args: unknown[]): object {
    const stmt = prepare.apply(this, args);
    retained.push(stmt);
    return stmt;
  };
  prepareWrapped = true;
}
