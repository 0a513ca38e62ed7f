import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built.js';
import { type Child, kill9, spawnFixture } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir('gatehouse-lock-');
const env = { PORT: '0', HOST: '127.0.0.1', GATEHOUSE_DATA_DIR: join(tmp.dir, 'data'), LOG_LEVEL: 'warn', GATEHOUSE_CONFIG: join(repoRoot, 'test/fixtures/gatehouse.yaml') };
const children: Child[] = [];

function spawnServer(): Child {
  const child = spawnFixture('src/server/main.ts', [], env);
  children.push(child);
  return child;
}

async function health(child: Child): Promise<number> {
  const ready = await child.waitForLine(/gatehouse ready on/);
  const port = Number(/:(\d+)\/graphql/.exec(ready)?.[1]);
  return (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
}

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.process.exitCode === null && c.process.signalCode === null) {
      c.process.kill('SIGTERM');
      await c.exited;
    }
  }
});
afterAll(() => tmp.remove());

describe('one Gatehouse process per data folder (built server processes)', () => {
  it('refuses a second process on the same folder with a clear error and a non-zero exit; a SIGKILLed holder leaves the folder usable at once', async () => {
    const first = spawnServer();
    expect(await health(first)).toBe(200);

    const second = spawnServer();
    const exit = await second.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const stderr = second.stderr.join('');
    expect(stderr).toContain(`data folder ${env.GATEHOUSE_DATA_DIR} is in use by another Gatehouse instance`);
    expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await health(first)).toBe(200); // the holder is untouched

    // The kernel releases the lock with the process: no stale lock file to clean up by hand.
    await kill9(first);
    const third = spawnServer();
    expect(await health(third)).toBe(200);
    third.process.kill('SIGTERM');
    expect(await third.exited).toEqual({ code: 0, signal: null });
  });
});
