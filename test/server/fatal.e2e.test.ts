import { describe, expect, it } from 'vitest';
import { spawnFixture } from '../support/processes.js';

describe("a server process's policy for errors nothing awaits", () => {
  it('an unhandled rejection is logged with its stack, said in one stderr line, and the process exits 1', async () => {
    const child = spawnFixture('test/fixtures/unhandled-rejection.ts', []);
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.stderr.join('')).toContain('gatehouse: fatal: unhandled rejection: Channel closed before call started\n');
    const logged = child.lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: { stack?: string } });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, msg: 'unhandled rejection: exiting' });
    expect(logged[0]?.err?.stack).toMatch(/Channel closed before call started\n\s+at /);
  }, 60_000);
});
