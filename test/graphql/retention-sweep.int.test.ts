import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Every } from '../../src/projections/runner/retention.js';
import { repoRoot } from '../support/built.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId } }`;
const RUNS = `query { runs(first: 50) { edges { node { runId status } } totalCount } }`;
const RUN = `query($id: ID!) { run(runId: $id) { runId status } }`;
const BUDGET = `query($id: String) { budget(scope: { runId: $id }) { runId } }`;
const DAY_MS = 86_400_000;

/**
 * The hourly sweep, driven by hand: the server's retention clock and timer are injected, so a run
 * that crosses `retention.finishedRunsDays` while the server runs is dropped at the next tick,
 * without a restart and without waiting an hour (or sleeping at all).
 */
describe('retention: the periodic sweep of a running server', () => {
  const tmp = tempDir('gatehouse-retention-sweep-');
  const configPath = join(tmp.dir, 'gatehouse.yaml');
  let s: ServerHarness | undefined;

  afterAll(async () => {
    await s?.close();
    tmp.remove();
  });

  it('drops a run that ended more than finishedRunsDays ago at the next tick; a FAILED run stays', async () => {
    writeFileSync(configPath, `${readFileSync(join(repoRoot, 'test/fixtures/gatehouse.yaml'), 'utf8')}\nretention:\n  finishedRunsDays: 1\n`);
    let offsetMs = 0;
    const timers: Array<{ intervalMs: number; tick: () => void; cancelled: boolean }> = [];
    const every: Every = (intervalMs, tick) => {
      const timer = { intervalMs, tick, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    };
    s = await startServer({ env: { dataDir: join(tmp.dir, 'data'), configPath }, retentionSchedule: { now: () => Date.now() + offsetMs, every } });
    const server = s;
    // One timer, hourly by default.
    expect(timers.map((t) => t.intervalMs)).toEqual([3_600_000]);
    const tick = () => (timers[0] as { tick: () => void }).tick();

    const start = async (steps: unknown[]) => {
      const r = await server.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: { goal: 'sweep', profile: 'enterprise', steps } });
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data!.startRun.runId;
    };
    const listed = async () => (await server.gql<{ runs: { edges: Array<{ node: { runId: string; status: string } }> } }>(TOKENS.developer, RUNS)).body.data!.runs.edges.map((e) => `${e.node.runId}:${e.node.status}`);
    const done = await start([{ id: 'look', tool: 'file.read', domain: 'files', input: { path: 'release-notes.md' } }]);
    const failed = await start([{ id: 'bad', tool: 'file.read', domain: 'files', input: { path: '../etc/passwd' } }]);
    // Both over, and the read models have them (waited on the condition, not on time).
    await until(async () => {
      const ids = await listed();
      return ids.includes(`${done}:SUCCEEDED`) && ids.includes(`${failed}:FAILED`);
    });

    // Inside the window, a tick drops nothing.
    tick();
    expect(await listed()).toEqual(expect.arrayContaining([`${done}:SUCCEEDED`, `${failed}:FAILED`]));

    // Two days later by the retention clock: nothing changes until the timer fires...
    offsetMs = 2 * DAY_MS;
    expect(await listed()).toContain(`${done}:SUCCEEDED`);
    // ...then the sweep drops the finished run and its per-run read models, and keeps the FAILED one.
    tick();
    const after = await listed();
    expect(after).not.toContain(`${done}:SUCCEEDED`);
    expect(after).toContain(`${failed}:FAILED`);
    expect((await server.gql(TOKENS.developer, BUDGET, { id: done })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // The log keeps it: run(runId) folds it from its stream.
    expect((await server.gql(TOKENS.developer, RUN, { id: done })).body.data).toEqual({ run: { runId: done, status: 'SUCCEEDED' } });

    // Stopping the server stops the timer.
    await server.close();
    s = undefined;
    expect(timers[0]?.cancelled).toBe(true);
  }, 60_000);
});

/** Waits until `condition` holds (checked every 50 ms, up to 10 s). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
