import type { RunIndexSnapshot, RunIndexStore } from '../../domain/ports/run-index.js';

/** An index that lives as long as the process: recovery then replays `$all` from the start. */
export function createMemoryRunIndex(): RunIndexStore {
  let saved: RunIndexSnapshot = { active: [] };
  return {
    load: async () => saved,
    save: async (snapshot) => {
      saved = { cursor: snapshot.cursor, active: [...snapshot.active] };
    },
    close: async () => {},
  };
}
