import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnFixture } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

// Vitest sets NODE_ENV=test for every child, which hides Apollo's own SIGTERM/SIGINT handlers
// (on unless NODE_ENV is test): they stop Apollo and re-send the signal, which counted as a second
// press. A server started as users start it has no NODE_ENV=test.
describe('the built server outside tests (NODE_ENV=production)', () => {
  const tmp = tempDir('gatehouse-signals-');
  afterAll(() => tmp.remove());

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`one ${signal} stops it gracefully: exit 0, no "again"`, async () => {
      const env = { NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, signal) };
      const child = spawnFixture('src/server/main.ts', [], env);
      await child.waitForLine(/gatehouse ready on/);
      child.process.kill(signal);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(child.lines.some((l) => l.includes('again: exiting now'))).toBe(false);
    });
  }
});
