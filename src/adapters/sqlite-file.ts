import Database from 'better-sqlite3';

export interface SqliteFileOptions {
  /** `process` survives a crash of this process (synchronous=NORMAL), `power` a power cut (FULL). */
  readonly durability?: 'process' | 'power';
  /** How long opening (and SQLite's own busy handler afterwards) waits for another process's lock. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens a Gatehouse SQLite file in WAL mode and runs `init` (creating or migrating tables) on it.
 * Several processes may open one fresh file at the same moment: switching to WAL and creating
 * tables then meet each other's locks, and SQLite sometimes answers SQLITE_BUSY at once instead of
 * calling its busy handler (when waiting could deadlock). Opening has nothing else to do, so it
 * retries those steps, briefly sleeping the thread, until the busy timeout has passed. `check`
 * runs first, before anything is written (a file it refuses is left byte for byte as it was).
 */
export function openSqliteFile(path: string, options: SqliteFileOptions, init: (db: Database.Database) => void, check?: (db: Database.Database) => void): Database.Database {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    if (check) whileBusy(busyTimeoutMs, () => check(db));
    whileBusy(busyTimeoutMs, () => {
      // WAL is persistent in the file: only the first opener switches it.
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    });
    db.pragma(`synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
    whileBusy(busyTimeoutMs, () => init(db));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

function whileBusy(timeoutMs: number, step: () => void): void {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      step();
      return;
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() + delay > deadline) throw error;
      Atomics.wait(sleeper, 0, 0, delay);
    }
  }
}
