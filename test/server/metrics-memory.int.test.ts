import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FollowerHealth } from '../../src/following/health.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import type { ProjectionRunner } from '../../src/projections/index.js';
import { METRICS_FOLLOWER } from '../../src/server/metrics.js';
import { alice } from '../support/engine-harness.js';
import { metricsEach } from '../support/metrics-harness.js';
import { until } from '../support/server-harness.js';

const Any = z.record(z.string(), z.unknown());
const gated = defineTool({ name: 'gated', description: 'waits for a human', input: Any, domain: 'ops', action: { category: 'write', operation: 'write' }, idempotent: true, timeoutMs: 5_000, approval: { eligibleRoles: ['tech_lead'] }, handler: () => 'ran' });
const broken = defineTool({ name: 'broken', description: 'fails at once', input: Any, domain: 'ops', action: { category: 'file', operation: 'read' }, idempotent: true, timeoutMs: 5_000, handler: () => { throw new ToolError('USER', 'bad request'); } });
const N = 20;

const setup = metricsEach();

describe('the metrics follower holds open work only', () => {
  it('runs that end with a gate still open (FAIL_FAST) leave no approval behind in it', async () => {
    const h = await setup.engine([gated, broken], { reconcileEveryMs: 0 });
    const health = new FollowerHealth();
    const noLag = { lag: async () => [] } as unknown as ProjectionRunner;
    const metrics = setup.metrics(noLag, health);
    await until(() => health.statuses().some((f) => f.name === METRICS_FOLLOWER && f.state === 'live'), 10_000);
    for (let i = 0; i < N; i++) {
      // The gate opens and the other step fails in the same plan: the run fails with the gate open.
      await h.api.startRun({ runId: `ff-${i}`, goal: 'x', profile: 'enterprise', steps: [
        { id: 'g', tool: 'gated', input: {}, domain: 'ops', dependsOn: [] },
        { id: 'b', tool: 'broken', input: {}, domain: 'ops', dependsOn: [] },
      ] }, alice);
      const end = await h.settled(`ff-${i}`);
      expect(end.steps[0]?.gate?.status).toBe('OPEN');
    }
    const failed = async () => Number(/^gatehouse_runs_total\{outcome="failed"\} (\d+)/m.exec((await metrics.render()).body ?? '')?.[1] ?? 0);
    for (const end = Date.now() + 10_000; (await failed()) < N && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    expect(await failed()).toBe(N);
    expect(metrics.held()).toEqual({ approvals: 0, calls: 0 });
  });
});
