import { openSqliteFile } from '../sqlite-file.js';
import type { ProjectionCommit, ReadModelStore, StoredProjection } from '../../projections/read-model-store.js';

export interface SqliteReadModelStoreOptions {
  /** The SQLite file, normally the event store's own (`store.settings().path`). */
  readonly path: string;
  /** As the event store's: `process` = WAL + synchronous NORMAL, `power` = synchronous FULL. */
  readonly durability?: 'process' | 'power';
  readonly busyTimeoutMs?: number;
}

// Own tables next to the events: one row per document, one checkpoint row per projection. The
// event store's `user_version` is its own; these tables are created if missing. Documents are
// kilobytes: a rowid table with a unique index writes them about twice as fast as a WITHOUT ROWID
// one (whose b-tree holds the whole rows).
const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name     TEXT    PRIMARY KEY,
  version  INTEGER NOT NULL,
  position TEXT
);
CREATE TABLE IF NOT EXISTS projection_docs (
  projection TEXT NOT NULL,
  collection TEXT NOT NULL,
  id         TEXT NOT NULL,
  doc        TEXT NOT NULL,
  UNIQUE (projection, collection, id)
);
`;

// The first layout (WITHOUT ROWID `projection_documents`): read models are derived data, so its
// documents and checkpoints are dropped and every projection is rebuilt from the log.
const DROP_OLD_LAYOUT = `
DROP TABLE projection_documents;
DELETE FROM projection_checkpoints;
`;

/**
 * Read models in the SQLite file of the embedded store, on a connection of their own. A commit
 * writes the changed documents of every projection and their checkpoints in one transaction.
 */
export function createSqliteReadModelStore(options: SqliteReadModelStoreOptions): ReadModelStore {
  const db = openSqliteFile(options.path, options, (db) =>
    db.transaction(() => {
      const old = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_documents'").get();
      db.exec(CREATE_TABLES);
      if (old) db.exec(DROP_OLD_LAYOUT);
    }).immediate(),
  );
  const stmt = {
    checkpoint: db.prepare<[string], { version: number; position: string | null }>('SELECT version, position FROM projection_checkpoints WHERE name = ?'),
    documents: db.prepare<[string], [string, string, string]>('SELECT collection, id, doc FROM projection_docs WHERE projection = ?').raw(),
    upsertDoc: db.prepare<[string, string, string, string]>('INSERT OR REPLACE INTO projection_docs (projection, collection, id, doc) VALUES (?, ?, ?, ?)'),
    deleteDoc: db.prepare<[string, string, string]>('DELETE FROM projection_docs WHERE projection = ? AND collection = ? AND id = ?'),
    deleteDocs: db.prepare<[string]>('DELETE FROM projection_docs WHERE projection = ?'),
    deleteAllDocs: db.prepare('DELETE FROM projection_docs'),
    projectionsWithDocs: db.prepare<[], string>('SELECT DISTINCT projection FROM projection_docs').pluck(),
    upsertCheckpoint: db.prepare<[string, number, string | null]>('INSERT OR REPLACE INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)'),
  };
  const commitTx = db.transaction((commits: readonly ProjectionCommit[]) => {
    for (const c of commits) {
      for (const change of c.changes) {
        if (change.doc === null) stmt.deleteDoc.run(c.name, change.collection, change.id);
        else stmt.upsertDoc.run(c.name, change.collection, change.id, change.doc);
      }
      stmt.upsertCheckpoint.run(c.name, c.version, c.checkpoint);
    }
  });
  const resetTx = db.transaction((projections: ReadonlyArray<{ readonly name: string; readonly version: number }>) => {
    const names = new Set(projections.map((p) => p.name));
    const kept = stmt.projectionsWithDocs.all().filter((name) => !names.has(name));
    // No other projection has documents: one DELETE without WHERE, which SQLite runs as a truncate
    // (pages dropped whole) instead of deleting a rebuild's hundreds of MB row by row.
    if (kept.length === 0) stmt.deleteAllDocs.run();
    else for (const name of names) stmt.deleteDocs.run(name);
    for (const { name, version } of projections) stmt.upsertCheckpoint.run(name, version, null);
  });
  return {
    load(name: string): StoredProjection | undefined {
      const row = stmt.checkpoint.get(name);
      if (!row) return undefined;
      const documents = stmt.documents.all(name).map(([collection, id, doc]) => ({ collection, id, doc }));
      return { version: row.version, checkpoint: row.position ?? undefined, documents };
    },
    commit(commits) {
      // IMMEDIATE: take the write lock first, so a writer in another process cannot deadlock us.
      commitTx.immediate(commits);
    },
    reset(projections) {
      resetTx.immediate(projections);
    },
    close() {
      if (db.open) db.close();
    },
  };
}
