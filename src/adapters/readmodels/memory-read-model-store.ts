import type { ReadModelStore } from '../../projections/read-model-store.js';
import { createSqliteReadModelStore } from './sqlite-read-model-store.js';

/**
 * Read models kept in this process only: for tests and throw-away runs. The same SQLite code as
 * the file store on an in-memory database, so tests exercise the real tables, indexes and queries.
 */
export function createMemoryReadModelStore(): ReadModelStore & { commits: () => number } {
  const store = createSqliteReadModelStore({ path: ':memory:' });
  let commits = 0;
  return {
    ...store,
    commit(list) {
      commits++;
      store.commit(list);
    },
    commits: () => commits,
  };
}
