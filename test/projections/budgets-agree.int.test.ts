import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/domain/events/index.js';
import { foldRun } from '../../src/domain/run/evolve.js';
import { initialRunState } from '../../src/domain/run/state.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { asProjected, type ProjectedEvent, ProjectionFold } from '../../src/projections/projection.js';
import { budgetsProjection } from '../../src/projections/read-models/budgets.js';
import { alice, type EngineHarness, engineHarness, restartedEngine, teardownEach } from '../support/engine-harness.js';
import { recorded, ev } from '../support/projections-events.js';
import { runMixedWorkload, workloadTools } from '../support/projections-workload.js';

const Any = z.record(z.string(), z.unknown());
const terminal = (s: { status: string }) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

let h: EngineHarness | undefined;
const cleanups = teardownEach(() => { const current = h; h = undefined; return current; }, { expectNoErrors: false });

describe('the budgets read model agrees with the decider', () => {
  it("every run's projected usage equals the decider's, after a crash and recovered re-claims", async () => {
    // A call that hangs until the "crash"; after the restart the same attempt is claimed again.
    const hang = defineTool({
      name: 'sync', description: 'hangs', input: Any, domain: 'ops', action: { category: 'read', operation: 'read' }, idempotent: true, timeoutMs: 150,
      handler: () => new Promise(() => {}),
    });
    h = await engineHarness([hang, ...workloadTools], { interruptGraceMs: 20 });
    const ids = ['c1', 'c2', 'c3'];
    for (const runId of ids) {
      await h.api.startRun({ runId, goal: 'x', profile: 'technical', budget: { totalCalls: 3, onExceed: 'warn' }, steps: [{ id: 's', tool: 'sync', input: {}, domain: 'ops', dependsOn: [] }] }, alice);
      await h.engine.waitFor(runId, (s) => s.steps[0]?.status === 'RUNNING');
    }
    await h.engine.close(); // the crash: no result is recorded

    const quick = defineTool({ ...hang, handler: () => ({ ok: true }) });
    const next = restartedEngine(h, [quick, ...workloadTools], { interruptGraceMs: 20 });
    cleanups.push(next.close);
    await next.engine.start();
    for (const runId of ids) expect((await next.engine.waitFor(runId, terminal)).status).toBe('SUCCEEDED');
    await runMixedWorkload({ ...h, engine: next.engine, api: next.api, settled: (runId: string) => next.engine.waitFor(runId, terminal, 20_000) }, 16, 8);

    const log = (await next.store.readAll()).map(asProjected);
    expect(log.some((e) => e.type === 'ToolCallStarted' && e.data.recovered === true)).toBe(true);
    const fold = new ProjectionFold(budgetsProjection, (a, b) => next.store.comparePositions(a, b));
    fold.applyFeed(log);
    const streams = new Map<string, ProjectedEvent[]>();
    for (const e of log) streams.set(e.streamId, [...(streams.get(e.streamId) ?? []), e]);
    expect(streams.size).toBe(ids.length + 16);
    for (const [streamId, events] of streams) {
      const decided = foldRun(events as RunEvent[], initialRunState()).usage;
      const projected = fold.state.runs.get(streamId.slice('run-'.length))?.used;
      expect({ streamId, ...projected }).toEqual({ streamId, total: decided.total, perDomain: decided.perDomain, perTool: decided.perTool });
    }
  });
});

describe('the position guard', () => {
  it('checks every event of a feed, not only the first: one at or before the cursor changes nothing', async () => {
    const { store, events } = await recorded([ev.started('g'), ev.plan('g', [{ id: 'a', tool: 'ok' }]), ev.callStarted('g', 'a', 1), ev.callStarted('g', 'a', 2)]);
    const fold = new ProjectionFold(budgetsProjection, (a, b) => store.comparePositions(a, b));
    fold.applyFeed(events.slice(0, 3));
    // A feed that starts after the cursor but then delivers an old event again (a resubscription).
    fold.applyFeed([events[3] as ProjectedEvent, events[2] as ProjectedEvent]);
    expect(fold.applied).toBe(events[3]?.position);
    expect(fold.state.runs.get('g')?.used.total).toBe(2);
  });
});
