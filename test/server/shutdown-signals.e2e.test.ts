import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Child, spawnFixture as spawn } from '../support/processes.js';
import { tempDir } from '../support/temp.js';

// A failed test must not leave its process running: each child is killed after its test.
const children: Child[] = [];
function spawnFixture(...args: Parameters<typeof spawn>): Child {
  const child = spawn(...args);
  children.push(child);
  return child;
}
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }
});

// Ctrl-C on `npm start` signals the whole process group, and npm forwards the signal to its child
// as well: the server gets the same SIGINT twice at once. That must not skip the graceful stop.
describe('onShutdownSignals', () => {
  it('the same signal delivered twice at once (terminal + npm) stops gracefully, exit 0', async () => {
    // A wide window, so a loaded machine cannot make the two deliveries look like two presses.
    const child = spawnFixture('test/fixtures/signal-stop.ts', ['2', '10000']);
    await child.waitForLine(/^ready$/);
    child.process.kill('SIGINT');
    // Two SIGINTs pending at once merge into one in the kernel; npm forwards after its own handler
    // ran, so the second arrives while the first is being handled, as here.
    await child.waitForLine(/^SIGINT: stopping$/);
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.lines).toContain('stopped');
    expect(child.lines.some((l) => l.includes('again: exiting now'))).toBe(false);
  });

  it('another signal while stopping exits at once, exit 1', async () => {
    const child = spawnFixture('test/fixtures/signal-stop.ts', ['99']);
    await child.waitForLine(/^ready$/);
    child.process.kill('SIGINT');
    await child.waitForLine(/^SIGINT: stopping$/);
    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.lines).toContain('SIGTERM again: exiting now');
    expect(child.lines).not.toContain('stopped');
  });

  it('the same signal again once the window has passed exits at once (an operator insisting)', async () => {
    const child = spawnFixture('test/fixtures/signal-stop.ts', ['99', '0']); // window 0: every repeat counts
    await child.waitForLine(/^ready$/);
    child.process.kill('SIGINT');
    await child.waitForLine(/^SIGINT: stopping$/);
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.lines).toContain('SIGINT again: exiting now');
  });
});

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
