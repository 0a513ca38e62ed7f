import type { Position } from '../../domain/ports/event-store.js';
import type { ProjectionCommit, ReadModelStore, StoredProjection } from '../../projections/read-model-store.js';

interface Entry {
  version: number;
  checkpoint: Position | undefined;
  docs: Map<string, { collection: string; id: string; doc: string }>;
}

/** Read models kept in this process only: for tests and throw-away runs. */
export function createMemoryReadModelStore(): ReadModelStore & { commits: () => number } {
  const entries = new Map<string, Entry>();
  let commits = 0;
  return {
    load(name): StoredProjection | undefined {
      const e = entries.get(name);
      if (!e) return undefined;
      return { version: e.version, checkpoint: e.checkpoint, documents: [...e.docs.values()] };
    },
    commit(list: readonly ProjectionCommit[]) {
      commits++;
      for (const c of list) {
        const e = entries.get(c.name) ?? { version: c.version, checkpoint: undefined, docs: new Map() };
        entries.set(c.name, e);
        for (const change of c.changes) {
          const key = `${change.collection}\u0000${change.id}`;
          if (change.doc === null) e.docs.delete(key);
          else e.docs.set(key, { collection: change.collection, id: change.id, doc: change.doc });
        }
        e.version = c.version;
        e.checkpoint = c.checkpoint;
      }
    },
    reset(projections) {
      for (const { name, version } of projections) entries.set(name, { version, checkpoint: undefined, docs: new Map() });
    },
    close() {},
    commits: () => commits,
  };
}
