import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goldenSignalsProjection, runsProjection } from '../../src/projections/index.js';
import { type GqlResponse, type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

// What a mutation waits for before it answers (read-your-writes): the read model its answer reads
// (the runs read model), not every read model. All of them apply an event in the same turn, so in
// normal operation this is the same wait; it differs when an unrelated read model is stopped by
// an error: the write was recorded and the answer can show it, so the answer is not an error.

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId status steps { id status approvalId } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "ship it" }) { approval { status } run { runId steps { id status } } } }`;
const gated = { goal: 'ship', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'production', version: '1.0' } }] };
type Body = GqlResponse['body'] & { extensions?: { consistencyToken?: string } };
const code = (r: { body: Body }) => r.body.errors?.[0]?.extensions?.code;

let s: ServerHarness;
const realEvolve = { signals: goldenSignalsProjection.evolve, runs: runsProjection.evolve };

/** A bug in one projection's code: its next evolve throws, which stops that projection alone. */
function breakProjection(p: { evolve: (...a: never[]) => unknown }, what: string): void {
  p.evolve = () => {
    throw new Error(`${what} is broken (test)`);
  };
}

beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});
afterEach(() => {
  goldenSignalsProjection.evolve = realEvolve.signals;
  runsProjection.evolve = realEvolve.runs;
});

async function failed(name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (s.app.services.projections.status().find((p) => p.name === name)?.status === 'failed') return;
    // Any appended event reaches the broken projection; a query appends nothing, a refused start neither.
    await s.gql(TOKENS.developer, START, { input: gated });
  }
  throw new Error(`${name} never failed`);
}

describe('mutations wait for the read model their answer reads', () => {
  it('with an unrelated read model stopped by an error, startRun and approve answer with their own write', async () => {
    breakProjection(goldenSignalsProjection as never, 'golden-signals');
    await failed('golden-signals');

    const started = await s.gql<{ startRun: { runId: string; status: string; steps: Array<{ id: string; status: string; approvalId: string }> } }>(TOKENS.developer, START, { input: gated });
    expect(started.body.errors).toBeUndefined();
    const run = started.body.data!.startRun;
    expect(run.steps[0]).toMatchObject({ id: 'ship', status: 'AWAITING_APPROVAL' });
    expect((started.body as Body).extensions?.consistencyToken).toEqual(expect.any(String));

    const approved = await s.gql<{ approve: { approval: { status: string }; run: { runId: string; steps: Array<{ id: string; status: string }> } } }>(TOKENS.tech_lead, APPROVE, { id: run.steps[0]!.approvalId });
    expect(approved.body.errors).toBeUndefined();
    expect(approved.body.data!.approve.approval.status).toBe('GRANTED');
    // The run as the runs read model has it after the approval was applied: the gate is no longer open.
    expect(approved.body.data!.approve.run.runId).toBe(run.runId);
    expect(approved.body.data!.approve.run.steps[0]!.status).not.toBe('AWAITING_APPROVAL');
  });

  it('with the runs read model itself stopped, a mutation still answers READ_MODEL_LAGGING with its token (the wait is kept)', async () => {
    breakProjection(runsProjection as never, 'runs');
    await failed('runs');
    const before = await s.eventCount();
    const r = await s.gql(TOKENS.developer, START, { input: gated });
    expect(code(r)).toBe('READ_MODEL_LAGGING');
    expect((r.body as Body).extensions?.consistencyToken).toEqual(expect.any(String));
    // The start itself was recorded (the error says so): its events are in the log.
    expect(await s.eventCount()).toBeGreaterThan(before);
  });
});
