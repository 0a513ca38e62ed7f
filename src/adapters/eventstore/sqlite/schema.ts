/** Bumped when the tables change; a file written by a newer layout is refused. */
export const STORE_SCHEMA_VERSION = 1;

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
