/** Dead letters: what could not be parsed, mapped or delivered, with the reason. Never silent. */
import type Database from 'better-sqlite3';

export type DeadLetterKind = 'parse' | 'mapping' | 'delivery';

export interface DeadLetterInput {
  output?: string | null;
  kind: DeadLetterKind;
  reason: string;
  status?: number | null;
  response?: string | null;
  file?: string | null;
  offset?: number | null;
  attempts?: number;
  payload: string;
}

export interface DeadLetterFilter {
  pipeline?: string | undefined;
  output?: string | undefined;
  kind?: DeadLetterKind | undefined;
  ids?: readonly number[] | undefined;
}

export interface DeadLetter extends Required<DeadLetterInput> {
  id: number;
  pipeline: string;
  createdAt: number;
}

interface Row {
  id: number; pipeline: string; output: string | null; kind: DeadLetterKind; reason: string; status: number | null;
  response: string | null; file: string | null; offset: number | null; attempts: number; created_at: number; payload: string;
}

const fromRow = (r: Row): DeadLetter => ({
  id: r.id, pipeline: r.pipeline, output: r.output, kind: r.kind, reason: r.reason, status: r.status, response: r.response,
  file: r.file, offset: r.offset, attempts: r.attempts, createdAt: r.created_at, payload: r.payload,
});

export class DeadLetters {
  private readonly insertStmt: Database.Statement;
  private readonly listStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;
  private readonly countStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare(`
      INSERT INTO dead_letters (pipeline, output, kind, reason, status, response, file, offset, attempts, created_at, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.listStmt = db.prepare(
      'SELECT * FROM dead_letters WHERE (@pipeline IS NULL OR pipeline = @pipeline) AND (@output IS NULL OR output = @output) ORDER BY id LIMIT @limit',
    );
    this.getStmt = db.prepare('SELECT * FROM dead_letters WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM dead_letters WHERE id = ?');
    this.countStmt = db.prepare('SELECT pipeline, output, kind, COUNT(*) AS count FROM dead_letters GROUP BY pipeline, output, kind');
  }

  insert(pipeline: string, d: DeadLetterInput, now: number): void {
    this.insertStmt.run(
      pipeline, d.output ?? null, d.kind, d.reason, d.status ?? null, truncate(d.response ?? null, 2000), d.file ?? null,
      d.offset ?? null, d.attempts ?? 0, now, d.payload,
    );
  }

  list(filter: { pipeline?: string | undefined; output?: string | undefined; limit?: number | undefined }): DeadLetter[] {
    return (this.listStmt.all({ pipeline: filter.pipeline ?? null, output: filter.output ?? null, limit: filter.limit ?? 100 }) as Row[]).map(fromRow);
  }

  get(id: number): DeadLetter | undefined {
    const r = this.getStmt.get(id) as Row | undefined;
    return r && fromRow(r);
  }

  delete(id: number): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  /** Letters matching every given filter, oldest first, after `afterId` (for paging). */
  select(filter: DeadLetterFilter, afterId = 0, limit = 500): DeadLetter[] {
    if (filter.ids?.length === 0) return [];
    const { sql, args } = whereOf(filter);
    return (this.db.prepare(`SELECT * FROM dead_letters WHERE id > ? AND ${sql} ORDER BY id LIMIT ?`).all(afterId, ...args, limit) as Row[]).map(fromRow);
  }

  /** Deletes the letters matching every given filter; returns how many. */
  purge(filter: DeadLetterFilter): number {
    if (filter.ids?.length === 0) return 0;
    const { sql, args } = whereOf(filter);
    return this.db.prepare(`DELETE FROM dead_letters WHERE ${sql}`).run(...args).changes;
  }

  counts(): Array<{ pipeline: string; output: string | null; kind: DeadLetterKind; count: number }> {
    return this.countStmt.all() as Array<{ pipeline: string; output: string | null; kind: DeadLetterKind; count: number }>;
  }

  /** Per output, the reason and time of its latest delivery dead letter (`tailship status`). */
  lastDeliveryErrors(): Array<{ pipeline: string; output: string; reason: string; at: number }> {
    return this.db
      .prepare(
        `SELECT pipeline, output, reason, MAX(created_at) AS at FROM dead_letters
         WHERE kind = 'delivery' AND output IS NOT NULL GROUP BY pipeline, output`,
      )
      .all() as Array<{ pipeline: string; output: string; reason: string; at: number }>;
  }

  /** The newest dead letters' reasons (without their payloads), newest first. */
  latest(limit: number): Array<{ pipeline: string; output: string | null; kind: DeadLetterKind; reason: string; createdAt: number }> {
    return this.db
      .prepare('SELECT pipeline, output, kind, reason, created_at AS createdAt FROM dead_letters ORDER BY id DESC LIMIT ?')
      .all(limit) as Array<{ pipeline: string; output: string | null; kind: DeadLetterKind; reason: string; createdAt: number }>;
  }
}

function whereOf(filter: DeadLetterFilter): { sql: string; args: Array<string | number> } {
  const where = ['1 = 1'];
  const args: Array<string | number> = [];
  if (filter.pipeline !== undefined) (where.push('pipeline = ?'), args.push(filter.pipeline));
  if (filter.output !== undefined) (where.push('output = ?'), args.push(filter.output));
  if (filter.kind !== undefined) (where.push('kind = ?'), args.push(filter.kind));
  if (filter.ids !== undefined) {
    where.push(`id IN (${filter.ids.map(() => '?').join(',')})`);
    args.push(...filter.ids);
  }
  return { sql: where.join(' AND '), args };
}

function truncate(s: string | null, max: number): string | null {
  return s !== null && s.length > max ? s.slice(0, max) + '…' : s;
}
