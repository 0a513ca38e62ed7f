import type { RunIndexSnapshot, RunIndexStore } from '../domain/ports/run-index.js';

/** An index that lives as long as the process: recovery then replays `$all` from the start. */
export function createMemoryRunIndex(): RunIndexStore {
  let cursor: RunIndexSnapshot['cursor'];
  const active = new Set<string>();
  return {
    load: async () => ({ cursor, active: [...active] }),
    save: async (change) => {
      for (const id of change.started) active.add(id);
      for (const id of change.ended) active.delete(id);
      cursor = change.cursor;
    },
    close: async () => {},
  };
}
