import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHarness, collect, startServer, TOKENS, until } from '../support/server-harness.js';

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`;
const PROGRESS = `subscription($id: ID!) { runProgress(runId: $id) { status progress { percent } } }`;
type P = { runProgress: { status: string } };

describe('runProgress under bursts of events', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer({ demoDelayMs: 20 }); });
  afterAll(async () => { await s?.close(); });

  it('events that reach the server together are sent as one state, the newest; the run\'s end is always sent', async () => {
    const started = await s.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, {
      input: { goal: 'bursts', profile: 'enterprise', steps: [{ id: 'd', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '4' } }] },
    });
    const runId = started.body.data!.startRun.runId;
    const progress = collect<P>(s.ws(TOKENS.developer), PROGRESS, { id: runId }, (items) => items.some((i) => i.runProgress.status === 'SUCCEEDED'), 20_000);
    await until(() => progress.items.length >= 1); // the current state: waiting for approval
    // Five events in one commit: the feed reads them as one page.
    const burst = Array.from({ length: 5 }, (_, i) => ({ type: 'BudgetWarning', data: { scope: { kind: 'total' }, used: i, limit: 1000, percent: 0.1 }, metadata: { correlationId: runId, actor: 'system:test' } }));
    const { nextExpectedRevision: burstEnd } = await s.app.store.append(`run-${runId}`, burst, { expectedRevision: 'any' });
    await until(() => progress.items.length >= 2);
    const ok = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: started.body.data!.startRun.steps[0]!.approvalId });
    expect(ok.body.errors).toBeUndefined();
    const items = await progress.done;
    expect(progress.errors).toEqual([]);
    expect(items[items.length - 1]!.runProgress.status).toBe('SUCCEEDED');
    const eventsAfterBurst = (await s.app.store.readStream(`run-${runId}`)).length - (burstEnd + 1);
    // The first state, at most one for the burst of five, at most one per later event.
    expect(items.length).toBeLessThanOrEqual(2 + eventsAfterBurst);
  });
});
