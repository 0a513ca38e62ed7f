import type Database from 'better-sqlite3';

/**
 * Bumped when the tables or the rows' format change; a file written by a newer layout is refused.
 * v1: the first tables. v2: the same tables; rows leave out the engine's actor and keep the chain
 * hash as base64url (codec.ts). v1 rows still read, so a v1 file is raised to v2 at open; every
 * release that reads v1 refuses a v2 file at open instead of failing on its rows later.
 */
export const STORE_SCHEMA_VERSION = 2;

// `position` is the global order. AUTOINCREMENT guarantees a position is never handed out twice,
// even if the newest row were ever removed, so a cursor can never point at two different events.
export const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  stream_id   TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  event_id    TEXT    NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, revision);
`;

// Checked before anything is written to the file (even its switch to WAL), so a newer file stays as it was.
/** Refuses a file of a newer layout than this code reads. */
export function refuseNewerLayout(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > STORE_SCHEMA_VERSION) {
    throw new Error(`event store file has layout v${version}; this Gatehouse reads up to v${STORE_SCHEMA_VERSION}: open it with the Gatehouse version that wrote it, or a newer one`);
  }
}

/** Creates the tables of a new file, or raises an older layout to this one, in one write transaction. */
export function migrate(db: Database.Database): void {
  // Read again inside the write: another process may have raised it since the check.
  refuseNewerLayout(db);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version < STORE_SCHEMA_VERSION) {
    db.transaction(() => {
      db.exec(CREATE_TABLES);
      db.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
    }).immediate();
  }
}
