import { openSqliteFile } from '../sqlite-file.js';
import type { DocumentSource } from '../../projections/documents.js';
import type { ProjectionCommit, ReadModelStore, StoredProjection, SweptDocuments } from '../../projections/read-model-store.js';
import { IndexedCollectionTable } from './sqlite-collections.js';

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
 * Collections with index columns live in tables of their own (`sqlite-collections.ts`); the others
 * in `projection_docs`, one row per document.
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
    documents: db.prepare<[string, string], { id: string; doc: string }>('SELECT id, doc FROM projection_docs WHERE projection = ? AND collection = ?'),
    getDoc: db.prepare<[string, string, string], string>('SELECT doc FROM projection_docs WHERE projection = ? AND collection = ? AND id = ?').pluck(),
    countDocs: db.prepare<[string, string], number>('SELECT count(*) FROM projection_docs WHERE projection = ? AND collection = ?').pluck(),
    allDocs: db.prepare<[string, string], [string, string]>('SELECT id, doc FROM projection_docs WHERE projection = ? AND collection = ? ORDER BY id').raw(),
    upsertDoc: db.prepare<[string, string, string, string]>('INSERT OR REPLACE INTO projection_docs (projection, collection, id, doc) VALUES (?, ?, ?, ?)'),
    deleteDoc: db.prepare<[string, string, string]>('DELETE FROM projection_docs WHERE projection = ? AND collection = ? AND id = ?'),
    deleteDocs: db.prepare<[string]>('DELETE FROM projection_docs WHERE projection = ?'),
    deleteAllDocs: db.prepare('DELETE FROM projection_docs'),
    projectionsWithDocs: db.prepare<[], string>('SELECT DISTINCT projection FROM projection_docs').pluck(),
    upsertCheckpoint: db.prepare<[string, number, string | null]>('INSERT OR REPLACE INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)'),
  };
  /** Indexed collections by `projection\0collection`. */
  const tables = new Map<string, IndexedCollectionTable>();
  const key = (projection: string, collection: string) => `${projection}\u0000${collection}`;
  /** Tables a reset left without their secondary indexes. */
  const unindexed = new Set<IndexedCollectionTable>();
  const commitTx = db.transaction((commits: readonly ProjectionCommit[]) => {
    for (const c of commits) {
      for (const change of c.changes) {
        const table = tables.get(key(c.name, change.collection));
        if (table) table.write(change.id, change.doc, change.columns);
        else if (change.doc === null) stmt.deleteDoc.run(c.name, change.collection, change.id);
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
    for (const [k, table] of tables) {
      if (!names.has(k.slice(0, k.indexOf('\u0000')))) continue;
      // Refilled from the log next: its indexes are built once it is full (buildIndexes). Dropped
      // first, so the delete does not update them row by row either.
      table.dropIndexes();
      table.clear();
      unindexed.add(table);
    }
    for (const { name, version } of projections) stmt.upsertCheckpoint.run(name, version, null);
  });
  const sweepTx = db.transaction((before: string, perRun: ReadonlyArray<{ readonly projection: string; readonly collection: string }>): SweptDocuments => {
    const swept: SweptDocuments = [];
    const ids = new Set<string>();
    for (const [k, table] of tables) {
      const expired = table.expire(before);
      if (expired.length === 0) continue;
      const [projection = '', collection = ''] = k.split('\u0000');
      swept.push({ projection, collection, ids: expired });
      for (const id of expired) ids.add(id);
    }
    if (ids.size === 0) return swept;
    for (const { projection, collection } of perRun) {
      const table = tables.get(key(projection, collection));
      for (const id of ids) {
        if (table) table.deleteId(id);
        else stmt.deleteDoc.run(projection, collection, id);
      }
      swept.push({ projection, collection, ids: [...ids] });
    }
    return swept;
  });
  return {
    declare(declaration) {
      if (!declaration.spec.columns) return true;
      const table = db.transaction(() => new IndexedCollectionTable(db, declaration)).immediate();
      tables.set(key(declaration.projection, declaration.collection), table);
      return !table.replaced;
    },
    load(name: string): StoredProjection | undefined {
      const row = stmt.checkpoint.get(name);
      if (!row) return undefined;
      return { version: row.version, checkpoint: row.position ?? undefined };
    },
    documents(projection, collection) {
      const table = tables.get(key(projection, collection));
      if (table) return table.all().map(([id, doc]) => ({ id, doc }));
      return stmt.documents.all(projection, collection);
    },
    source(projection, collection): DocumentSource {
      const table = tables.get(key(projection, collection));
      if (table) return table;
      return {
        get: (id) => stmt.getDoc.get(projection, collection, id),
        count: (query) => {
          if (Object.keys(query).length > 0) throw new Error(`${projection}/${collection} has no index columns to query`);
          return stmt.countDocs.get(projection, collection) as number;
        },
        find: () => {
          throw new Error(`${projection}/${collection} has no index columns to query`);
        },
        all: () => stmt.allDocs.all(projection, collection),
      };
    },
    commit(commits) {
      // IMMEDIATE: take the write lock first, so a writer in another process cannot deadlock us.
      commitTx.immediate(commits);
    },
    reset(projections) {
      resetTx.immediate(projections);
    },
    buildIndexes() {
      if (unindexed.size === 0) return;
      db.transaction(() => {
        for (const table of unindexed) table.createIndexes();
      }).immediate();
      unindexed.clear();
    },
    sweep(before, perRun) {
      return sweepTx.immediate(before, perRun);
    },
    close() {
      if (db.open) db.close();
    },
  };
}
