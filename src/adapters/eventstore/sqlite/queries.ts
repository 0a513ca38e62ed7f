import type Database from 'better-sqlite3';
import type { AllFilter } from '../../../domain/ports/event-store.js';
import type { EventRow } from './recent-events.js';

/** The columns of an `EventRow`, in its order. */
export const COLUMNS = 'position, stream_id, revision, event_id, type, data, metadata, recorded_at';

/** The store's fixed statements, prepared once per connection. */
export interface StoreStatements {
  lastRevision: Database.Statement<[string], number>;
  insert: Database.Statement<[string, number, string, string, string, string, number]>;
  streamForwards: Database.Statement<[string, number, number], EventRow>;
  streamBackwards: Database.Statement<[string, number, number], EventRow>;
  head: Database.Statement<[], number | null>;
  dataVersion: Database.Statement<[], number>;
}

/** Prepares the statements of the append path, of stream reads, the head and the change poll. */
export function prepareStatements(db: Database.Database): StoreStatements {
  return {
    lastRevision: db
      .prepare<[string], number>('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1')
      .pluck(),
    insert: db.prepare(
      'INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    streamForwards: db
      .prepare<[string, number, number], EventRow>(
        `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
      )
      .raw(),
    streamBackwards: db
      .prepare<[string, number, number], EventRow>(
        `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
      )
      .raw(),
    head: db.prepare<[], number | null>('SELECT max(position) FROM events').pluck(),
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
  };
}

/**
 * `$all` queries, one statement per direction and filter shape (how many prefixes, how many
 * types), prepared on first use; their arguments come from `filterArgs`, then the cursor and the limit.
 */
export class AllQueries {
  private readonly cache = new Map<string, Database.Statement<unknown[], EventRow>>();

  constructor(private readonly db: Database.Database) {}

  /** The statement for this direction and this filter's shape. */
  get(direction: 'forwards' | 'backwards', filter: AllFilter | undefined): Database.Statement<unknown[], EventRow> {
    const prefixes = filter?.streamPrefix?.length ?? -1;
    const types = filter?.eventTypes?.length ?? -1;
    const key = `${direction}:${prefixes}:${types}`;
    let stmt = this.cache.get(key);
    if (!stmt) {
      const where: string[] = [];
      if (prefixes >= 0) {
        where.push(prefixes === 0 ? '0' : `(${Array(prefixes).fill('substr(stream_id, 1, ?) = ?').join(' OR ')})`);
      }
      if (types >= 0) where.push(types === 0 ? '0' : `type IN (${Array(types).fill('?').join(', ')})`);
      where.push(direction === 'forwards' ? 'position > ?' : 'position < ?');
      const order = direction === 'forwards' ? 'ASC' : 'DESC';
      stmt = this.db
        .prepare<unknown[], EventRow>(
          `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position ${order} LIMIT ?`,
        )
        .raw();
      this.cache.set(key, stmt);
    }
    return stmt;
  }
}

/** A filter's arguments for an `AllQueries` statement: (length, prefix) per prefix, then the types. */
export function filterArgs(filter: AllFilter | undefined): unknown[] {
  const args: unknown[] = [];
  for (const p of filter?.streamPrefix ?? []) args.push(p.length, p);
  for (const t of filter?.eventTypes ?? []) args.push(t);
  return args;
}

/** A port count as SQLite's LIMIT: -1 is no limit. */
export function sqlLimit(max: number): number {
  return Number.isFinite(max) ? max : -1;
}
