import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Position } from '../../domain/ports/event-store.js';
import type { NotificationCheckpoint } from '../../orchestrator/notification-dispatcher.js';

/** The notification dispatcher's checkpoint in a file of the data folder (written whole, then renamed). */
export function fileCheckpoint(path: string): NotificationCheckpoint {
  return {
    async load() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(position: Position) {
      // A temporary name of its own, so a second writer of the same file never renames this one's away.
      const tmp = `${path}.${randomUUID()}.tmp`;
      await writeFile(tmp, position, { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
