import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { EventCodec } from '../../src/adapters/eventstore/shared/codec.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { runQueries, runsProjection } from '../../src/projections/index.js';
import { collect, type ServerHarness, startServer, TOKENS, until } from '../support/server-harness.js';

const quick = defineTool({
  name: 'test.quick', description: 'answers at once', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 5_000, handler: () => ({ ok: true }),
});
const alice = { id: 'alice', role: 'developer' };

let s: ServerHarness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await s?.close();
  s = undefined;
});

describe('one decode of each commit per process', () => {
  it('with every in-process follower of $all running, each event of a run is decoded once, not once per follower', async () => {
    s = await startServer({ tools: [quick] });
    const h = s;
    // A graphql live feed of $all (approvalsChanged) is one more follower beside projections, run follower, metrics and notifications.
    const feed = collect(h.ws(TOKENS.devops_engineer), 'subscription { approvalsChanged { kind } }', {}, () => false, 60_000);

    // Only decodes of $all reads (followers) are counted: a readStream (the engine, the audit replay) reads its own rows.
    const decodes = new Map<string, number>();
    const original = EventCodec.prototype.decodeFields;
    let inStreamRead = 0;
    const store = h.app.store;
    const readStream = store.readStream.bind(store);
    // The SQLite store decodes a stream read synchronously, inside the call.
    vi.spyOn(store, 'readStream').mockImplementation((...args) => {
      inStreamRead++;
      try {
        return readStream(...args);
      } finally {
        inStreamRead--;
      }
    });
    vi.spyOn(EventCodec.prototype, 'decodeFields').mockImplementation(function (this: EventCodec, ...args) {
      if (inStreamRead === 0) decodes.set(args[3], (decodes.get(args[3]) ?? 0) + 1);
      return original.apply(this, args);
    });
    const headBefore = await store.headPosition();

    const api = h.app.services.orchestrator;
    const ids = ['d1', 'd2', 'd3'];
    for (const runId of ids) {
      await api.startRun({ runId, goal: 'x', profile: 'enterprise', steps: [{ id: 'a', tool: 'test.quick', domain: 'test', input: {} }, { id: 'b', tool: 'test.quick', domain: 'test', input: {}, dependsOn: ['a'] }] }, alice);
    }
    const runs = () => h.app.services.projections.read(runsProjection);
    await until(() => ids.every((id) => runQueries.run(runs(), id)?.status === 'SUCCEEDED'), 30_000);
    const head = await store.headPosition();
    // Every follower has applied the last event once the projections have (they are the slowest) and the metrics show it.
    await h.app.services.projections.waitFor(head as string, 30_000);
    await until(() => [...decodes.keys()].some((p) => p === head), 30_000);

    const written = (await store.readAll({ after: headBefore })).map((e) => e.position);
    expect(written.length).toBeGreaterThan(10);
    const perEvent = written.map((p) => decodes.get(p) ?? 0);
    expect(perEvent, `decodes per event: ${perEvent.join(',')}`).toEqual(written.map(() => 1));
    feed.stop();
  });
});
