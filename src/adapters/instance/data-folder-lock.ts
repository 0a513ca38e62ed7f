import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The file whose OS lock says "an instance runs on this data folder". */
export const LOCK_FILE = 'instance.lock';
/** The file a generated instance id is kept in, so a restart keeps its id. */
export const INSTANCE_ID_FILE = 'instance-id';

/** A held data-folder lock: released by `release()`, or by the kernel when the process dies. */
export interface DataFolderLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes the data folder for this process, or throws naming the folder. The lock is SQLite's own
 * (a POSIX advisory lock on `instance.lock`, taken by an exclusive write transaction held open in
 * exclusive locking mode): the kernel drops it when the process dies, so a SIGKILLed instance's
 * folder is free at once, unlike a pid file that a crash leaves behind.
 */
export function lockDataFolder(dataDir: string): DataFolderLock {
  const path = join(dataDir, LOCK_FILE);
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting for it.
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('journal_mode = DELETE'); // WAL would share the file through its -shm instead of locking it
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) {
      throw new Error(`data folder ${dataDir} is in use by another Gatehouse instance (lock ${path}): give each instance its own GATEHOUSE_DATA_DIR`);
    }
    throw error;
  }
  let released = false;
  return {
    path,
    release: () => {
      if (released) return;
      released = true;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

/**
 * This instance's id: the configured one, else the one stored in the data folder, else a new one
 * stored there (so the same folder is the same instance after a restart).
 */
export function instanceIdOf(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const path = join(dataDir, INSTANCE_ID_FILE);
  if (existsSync(path)) {
    const stored = readFileSync(path, 'utf8').trim();
    if (/^[A-Za-z0-9._-]{1,64}$/.test(stored)) return stored;
  }
  const id = `gh-${randomUUID()}`;
  writeFileSync(path, `${id}\n`, { mode: 0o600 });
  return id;
}
