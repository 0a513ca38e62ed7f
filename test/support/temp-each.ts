import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { tempDir } from './temp.js';

/**
 * Gives each test of the enclosing describe a file path (`name`) in a fresh temporary folder,
 * handed to `use` before the test, and removes the folder after it. Hooks registered after this
 * one (killing child processes, restoring mocks) run before the removal.
 */
export function tempFileEachTest(use: (path: string, dir: string) => void, name = 'events.sqlite'): void {
  let remove: (() => void) | undefined;
  beforeEach(() => {
    const tmp = tempDir();
    remove = tmp.remove;
    use(join(tmp.dir, name), tmp.dir);
  });
  afterEach(() => {
    remove?.();
    remove = undefined;
  });
}
