import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createEsdbEventStore } from '../../src/adapters/eventstore/esdb/esdb-event-store.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { runQueries, runsProjection } from '../../src/projections/index.js';
import { type EsdbDouble, startEsdbDouble } from '../support/esdb-double/server.js';
import { type ServerHarness, startServer } from '../support/server-harness.js';

const quick = defineTool({
  name: 'test.quick', description: 'answers at once', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 5_000, handler: () => ({ ok: true }),
});
const alice = { id: 'alice', role: 'developer' };
const start = (api: Orchestrator, runId: string) =>
  api.startRun({ runId, goal: 'x', profile: 'enterprise', steps: [{ id: 'a', tool: 'test.quick', domain: 'test', input: {} }] }, alice);

type Health = { ok: boolean; followers: Array<{ name: string; state: string; since?: string; error?: string }> };

/** Retries an async check until it passes (waits on a condition, not a sleep): vitest's waitFor. */
const eventually = <T>(check: () => Promise<T>, ms = 20_000): Promise<T> => vi.waitFor(check, { timeout: ms, interval: 25 });

let s: ServerHarness | undefined;
let double: EsdbDouble | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await s?.close();
  double?.close();
  s = undefined;
  double = undefined;
});

describe('followers survive a dropped subscription', () => {
  it('EventStoreDB goes away and comes back: /healthz says who stalled and since when, then everything catches up', async () => {
    double = await startEsdbDouble();
    s = await startServer({ tools: [quick], eventStore: double.connectionString });
    const h = s;
    const health = async () => {
      const res = await fetch(h.url.replace('/graphql', '/healthz'));
      return { status: res.status, body: (await res.json()) as Health };
    };
    const metrics = async () => (await fetch(h.url.replace('/graphql', '/metrics'))).text();
    const api = h.app.services.orchestrator;
    const runs = () => h.app.services.projections.read(runsProjection);
    const succeeded = (ids: string[]) => ids.every((id) => runQueries.run(runs(), id)?.status === 'SUCCEEDED');

    const before = ['b1', 'b2', 'b3'];
    for (const id of before) await start(api, id);
    await eventually(async () => expect(succeeded(before)).toBe(true));
    expect((await health()).status).toBe(200);

    // The store goes away under the running server: every follower's subscription fails.
    const { port, log } = double;
    double.close();
    const down = await eventually(async () => {
      const r = await health();
      expect(r.status).toBe(503);
      expect(r.body.followers.filter((f) => f.state === 'stalled').map((f) => f.name).sort()).toEqual(['metrics', 'notifications', 'projections', 'run-follower']);
      return r.body;
    });
    for (const f of down.followers) expect(Date.parse(f.since ?? '')).toBeLessThanOrEqual(Date.now());
    expect(await metrics()).toMatch(/gatehouse_follower_stalled_seconds\{follower="run-follower"\} [0-9.]+/);

    // It comes back with its log; another process starts runs the server only hears of through the log.
    double = await startEsdbDouble({ port, log });
    const foreignStore = createEsdbEventStore({ connectionString: double.connectionString });
    const tools = new ToolRegistry([quick]);
    const foreignEngine = new RunEngine({ store: foreignStore, tools, drive: false });
    cleanups.push(async () => { await foreignEngine.close(); await foreignStore.close(); });
    await eventually(() => foreignStore.headPosition()); // the new client's channel is up
    const foreign = ['f1', 'f2', 'f3'];
    for (const id of foreign) await start(new Orchestrator({ engine: foreignEngine, tools }), id);

    await eventually(async () => expect((await health()).status).toBe(200));
    await eventually(async () => expect(succeeded([...before, ...foreign])).toBe(true));
    // The metrics follower counted every run once, the ones finished while it was down included.
    const text = await eventually(async () => {
      const t = await metrics();
      expect(t).toMatch(/gatehouse_runs_total\{outcome="succeeded"\} 6\n/);
      return t;
    });
    expect(text).toMatch(/gatehouse_follower_stalled_seconds\{follower="projections"\} 0/);
    expect(text).toMatch(/gatehouse_engine_errors_total\{what="follow",code="[A-Z_]+"\} \d+/);
  }, 60_000);
});
