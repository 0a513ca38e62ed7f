import { openSqliteFile } from '../sqlite-file.js';
import type { RunIndexSnapshot, RunIndexStore } from '../../domain/ports/run-index.js';

/**
 * The active-run index in a SQLite file (by default the event store's own): one row per open run
 * and one for the cursor, changed together in one transaction, so a save costs what changed.
 * (The older one-row snapshot table, if present, is left alone: the index is only a cache, and an
 * empty one is rebuilt from the log.)
 */
export function createSqliteRunIndex(path: string): RunIndexStore {
  const db = openSqliteFile(path, {}, (db) =>
    db.exec(`CREATE TABLE IF NOT EXISTS gatehouse_run_index_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), cursor TEXT);
             CREATE TABLE IF NOT EXISTS gatehouse_run_index_runs (run_id TEXT PRIMARY KEY) WITHOUT ROWID;`),
  );
  const readCursor = db.prepare<[], string | null>('SELECT cursor FROM gatehouse_run_index_cursor WHERE id = 1').pluck();
  const readRuns = db.prepare<[], string>('SELECT run_id FROM gatehouse_run_index_runs').pluck();
  const writeCursor = db.prepare('INSERT INTO gatehouse_run_index_cursor (id, cursor) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor');
  const add = db.prepare('INSERT OR IGNORE INTO gatehouse_run_index_runs (run_id) VALUES (?)');
  const remove = db.prepare('DELETE FROM gatehouse_run_index_runs WHERE run_id = ?');
  const apply = db.transaction((cursor: string | null, started: readonly string[], ended: readonly string[]) => {
    for (const id of started) add.run(id);
    for (const id of ended) remove.run(id);
    writeCursor.run(cursor);
  });
  return {
    load: async (): Promise<RunIndexSnapshot> => {
      const cursor = readCursor.get();
      // Runs without a cursor were never consistent with one: start over from the log.
      if (cursor === undefined || cursor === null) return { active: [] };
      return { cursor, active: readRuns.all() };
    },
    save: async (change) => {
      apply(change.cursor ?? null, change.started, change.ended);
    },
    close: async () => {
      db.close();
    },
  };
}
