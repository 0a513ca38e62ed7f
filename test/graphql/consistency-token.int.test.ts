import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type EsdbDouble, startEsdbDouble } from '../support/esdb-double/server.js';
import { type GqlResponse, type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';
import { tempDir } from '../support/temp.js';

let a: ServerHarness;
let b: ServerHarness;

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { runId steps { approvalId } } }`;
const APPROVE = `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "ship it" }) { approval { status } } }`;
const gated = { goal: 'ship', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'production', version: '1.0' } }] };
type Body = GqlResponse['body'] & { extensions?: { consistencyToken?: string } };
const tokenOf = (r: { body: unknown }) => (r.body as Body).extensions?.consistencyToken;
const code = (r: { body: Body }) => r.body.errors?.[0]?.extensions?.code;

/** Starts a gated run on A while B's read models are held back, so B can only answer it by waiting. */
async function startOnAWhileBLags(): Promise<{ runId: string; approvalId: string; token: string }> {
  await b.app.services.projections.stop();
  const r = await a.gql<{ startRun: { runId: string; steps: Array<{ approvalId: string }> } }>(TOKENS.developer, START, { input: gated });
  expect(r.body.errors).toBeUndefined();
  const token = tokenOf(r);
  expect(typeof token).toBe('string');
  return { runId: r.body.data!.startRun.runId, approvalId: r.body.data!.startRun.steps[0]!.approvalId, token: token as string };
}

// Two instances on one event store, each with its own data folder (read models, run index): a
// shared SQLite file, and EventStoreDB through its adapter (the gRPC double), whose positions are not dense.
describe.each(['sqlite', 'esdb'] as const)('consistency token on %s: a write on instance A, read on instance B', (kind) => {
  const tmp = tempDir('gatehouse-consistency-');
  let double: EsdbDouble | undefined;
  beforeAll(async () => {
    double = kind === 'esdb' ? await startEsdbDouble() : undefined;
    const store = double ? double.connectionString : `sqlite://${join(tmp.dir, 'events.sqlite')}`;
    a = await startServer({ eventStore: store, env: { instanceId: 'a' } });
    b = await startServer({ eventStore: store, env: { instanceId: 'b', consistencyWaitMs: 1_500 } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await double?.close();
    tmp.remove();
  });
  // B's read models follow the log again after a test held them back.
  beforeEach(async () => { await b.app.services.projections.start(); });

  it('every appending mutation returns the log position of its append as extensions.consistencyToken', async () => {
    const { runId, approvalId, token } = await startOnAWhileBLags();
    const events = await a.app.store.readStream(`run-${runId}`);
    const started = events.find((e) => e.type === 'ApprovalRequested');
    // At or after the append that recorded the gate, and never past the log's head.
    expect(a.app.store.comparePositions(token, started!.position)).toBeGreaterThanOrEqual(0);
    expect(a.app.store.comparePositions(token, (await a.app.store.headPosition())!)).toBeLessThanOrEqual(0);

    const approved = await a.gql(TOKENS.tech_lead, APPROVE, { id: approvalId });
    expect(approved.body.errors).toBeUndefined();
    const granted = (await a.app.store.readStream(`run-${runId}`)).find((e) => e.type === 'ApprovalGranted');
    expect(a.app.store.comparePositions(tokenOf(approved) as string, granted!.position)).toBeGreaterThanOrEqual(0);
    // A query appends nothing and returns no token; nor does a refused mutation.
    expect(tokenOf(await a.gql(TOKENS.developer, '{ me { id } }'))).toBeUndefined();
    const again = await a.gql(TOKENS.tech_lead, APPROVE, { id: approvalId });
    expect(code(again)).toBe('CONFLICT');
    expect(tokenOf(again)).toBeUndefined();
    // Cancelling a run that waits for its gate (another appending mutation): its RunCancelled's position.
    const waiting = await a.gql<{ startRun: { runId: string } }>(TOKENS.developer, START, { input: gated });
    const cancelled = await a.gql(TOKENS.developer, `mutation($id: ID!) { cancelRun(runId: $id) { status } }`, { id: waiting.body.data!.startRun.runId });
    expect(cancelled.body).toMatchObject({ data: { cancelRun: { status: 'CANCELLED' } } });
    const cancelEvent = (await a.app.store.readStream(`run-${waiting.body.data!.startRun.runId}`)).find((e) => e.type === 'RunCancelled');
    expect(a.app.store.comparePositions(tokenOf(cancelled) as string, cancelEvent!.position)).toBeGreaterThanOrEqual(0);
  });

  it('queries on B given atLeast wait until B\'s read models applied the token, then answer with the write', async () => {
    const { runId, approvalId, token } = await startOnAWhileBLags();
    // Without the token B answers from where its read models are: the run is not there yet.
    expect(code(await b.gql(TOKENS.developer, `query($id: ID!) { run(runId: $id) { runId } }`, { id: runId }))).toBe('NOT_FOUND');

    const queries = [
      b.gql<{ run: { runId: string } }>(TOKENS.developer, `query($id: ID!, $t: String) { run(runId: $id, atLeast: $t) { runId } }`, { id: runId, t: token }),
      b.gql<{ runs: { edges: Array<{ node: { runId: string } }> } }>(TOKENS.developer, `query($t: String) { runs(first: 100, atLeast: $t) { edges { node { runId } } } }`, { t: token }),
      b.gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string } }> } }>(TOKENS.tech_lead, `query($t: String) { pendingApprovals(first: 100, atLeast: $t) { edges { node { approvalId } } } }`, { t: token }),
      b.gql<{ approval: { approvalId: string } }>(TOKENS.tech_lead, `query($id: ID!, $t: String) { approval(approvalId: $id, atLeast: $t) { approvalId } }`, { id: approvalId, t: token }),
      b.gql<{ budget: { runId: string } }>(TOKENS.developer, `query($id: String, $t: String) { budget(scope: { runId: $id }, atLeast: $t) { runId } }`, { id: runId, t: token }),
      b.gql<{ goldenSignals: { scope: string } }>(TOKENS.developer, `query($t: String) { goldenSignals(scope: "overall", atLeast: $t) { scope } }`, { t: token }),
    ] as const;
    await b.app.services.projections.start();
    const [run, runs, pending, approval, budget, signals] = await Promise.all(queries);
    expect(run.body).toEqual({ data: { run: { runId } } });
    expect(runs.body.data!.runs.edges.map((e) => e.node.runId)).toContain(runId);
    expect(pending.body.data!.pendingApprovals.edges.map((e) => e.node.approvalId)).toContain(approvalId);
    expect(approval.body).toEqual({ data: { approval: { approvalId } } });
    expect(budget.body).toEqual({ data: { budget: { runId } } });
    expect(signals.body.errors).toBeUndefined();
  });

  it('a token B does not reach in time is a READ_MODEL_LAGGING error that says so; nothing is appended', async () => {
    const { runId, token } = await startOnAWhileBLags();
    const before = await b.eventCount();
    const r = await b.gql(TOKENS.developer, `query($id: ID!, $t: String) { run(runId: $id, atLeast: $t) { runId } }`, { id: runId, t: token });
    expect(code(r)).toBe('READ_MODEL_LAGGING');
    expect(r.body.errors?.[0]?.message).toBe(`the read models of this instance have not reached consistency token ${token} within 1500 ms: query again shortly`);
    expect(await b.eventCount()).toBe(before);
  });

  it('a malformed token is BAD_USER_INPUT naming atLeast, and appends nothing', async () => {
    const before = await b.eventCount();
    const r = await b.gql(TOKENS.developer, `{ runs(atLeast: "not-a-position") { edges { node { runId } } } }`);
    expect(code(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors?.[0]?.message).toMatch(/^atLeast: /);
    expect(await b.eventCount()).toBe(before);
  });
});
