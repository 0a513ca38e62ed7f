import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { CorruptEventError } from '../../src/domain/errors.js';
import { runStarted, stepSucceeded } from '../support/events.js';
import { tempDir } from '../support/temp.js';

/** Stored rows leave out `correlationId` and `schemaVersion` 1; reading puts them back, first, as before. */
describe('SQLite event store: metadata left out of a row is put back on read', () => {
  it('in the same key order for rows with both, one or none of the keys; a "__proto__" key stays an own key', async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'events.sqlite');
    const store = createSqliteEventStore({ path });
    try {
      await store.append('run-m', [runStarted('m'), stepSucceeded(1, 'm'), stepSucceeded(2, 'm'), stepSucceeded(3, 'm')]);
      const raw = new Database(path);
      const set = raw.prepare<[string, number]>("UPDATE events SET metadata = ? WHERE stream_id = 'run-m' AND revision = ?");
      set.run('{"actor":"user:a"}', 0);
      set.run('{"schemaVersion":1,"actor":"user:b"}', 1);
      set.run('{"actor":"user:c","correlationId":"m","schemaVersion":1}', 2);
      // A key JSON.parse keeps as an own property: copying it must not make it the prototype,
      // or the metadata would seem to have the actor it hides (zod reads inherited keys).
      set.run('{"__proto__":{"actor":"user:hidden"}}', 3);
      raw.close();

      const events = await store.readStream('run-m', { maxCount: 3 });
      expect(events.map((e) => Object.keys(e.metadata))).toEqual([
        ['correlationId', 'schemaVersion', 'actor'],
        ['correlationId', 'schemaVersion', 'actor'],
        ['actor', 'correlationId', 'schemaVersion'],
      ]);
      expect(events.map((e) => [e.metadata.correlationId, e.metadata.schemaVersion, e.metadata.actor])).toEqual([
        ['m', 1, 'user:a'],
        ['m', 1, 'user:b'],
        ['m', 1, 'user:c'],
      ]);
      const error = await store.readStream('run-m', { fromRevision: 3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptEventError);
      expect(error).toMatchObject({ streamId: 'run-m', revision: 3 });
    } finally {
      await store.close();
      tmp.remove();
    }
  });
});
