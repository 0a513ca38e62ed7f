import { openSqliteFile } from '../sqlite-file.js';
import { z } from 'zod';
import type { RunIndexSnapshot, RunIndexStore } from '../../domain/ports/run-index.js';

const Row = z.object({ cursor: z.string().optional(), active: z.array(z.string()) });

/**
 * The active-run index in a SQLite file (by default the event store's own): one row, written in
 * one statement, so it is either the old snapshot or the new one.
 */
export function createSqliteRunIndex(path: string): RunIndexStore {
  const db = openSqliteFile(path, {}, (db) =>
    db.exec('CREATE TABLE IF NOT EXISTS gatehouse_run_index (id INTEGER PRIMARY KEY CHECK (id = 1), snapshot TEXT NOT NULL)'),
  );
  const read = db.prepare<[], string>('SELECT snapshot FROM gatehouse_run_index WHERE id = 1').pluck();
  const write = db.prepare('INSERT INTO gatehouse_run_index (id, snapshot) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot');
  return {
    load: async (): Promise<RunIndexSnapshot> => {
      const text = read.get();
      if (text === undefined) return { active: [] };
      const parsed = Row.safeParse(JSON.parse(text));
      // A snapshot this code cannot read is only a cache: start over from the log.
      return parsed.success ? parsed.data : { active: [] };
    },
    save: async (snapshot) => {
      write.run(JSON.stringify({ cursor: snapshot.cursor, active: snapshot.active }));
    },
    close: async () => {
      db.close();
    },
  };
}
