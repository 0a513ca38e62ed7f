import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

let failNext = true;
const flaky = defineTool({
  name: 'test.flaky', description: 'fails once', input: z.object({}).loose(), domain: 'test',
  // A read: the approval policy auto-approves it, so the run never waits for a human.
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 1_000,
  handler: () => { if (failNext) { failNext = false; throw new ToolError('USER', 'first call fails'); } return { ok: true }; },
});

const RUN = `id: runId status stage goal profile requester { id role } steps { id status approvalId approvalStatus } progress { percent }`;
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { ${RUN} } }`;
const deployInput = (key?: string, env = 'production') => ({ goal: 'ship', profile: 'enterprise', idempotencyKey: key, steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: env, version: '1.0' } }] });
const code = (r: { body: { errors?: Array<{ extensions?: { code?: string } }> } }) => r.body.errors?.[0]?.extensions?.code;

type RunData = { id: string; status: string; steps: Array<{ id: string; status: string; approvalId: string | null; approvalStatus: string | null }> };

describe('GraphQL over real HTTP: queries, mutations, error codes', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer({ tools: [flaky] }); });
  afterAll(async () => { await s?.close(); });

  async function gatedRun(token: string = TOKENS.developer): Promise<{ runId: string; approvalId: string }> {
    const r = await s.gql<{ startRun: RunData }>(token, START, { input: deployInput() });
    expect(r.body.errors).toBeUndefined();
    const run = r.body.data!.startRun;
    // read-your-writes: the returned read model already shows the gate
    expect(run.steps[0]!.status).toBe('AWAITING_APPROVAL');
    return { runId: run.id, approvalId: run.steps[0]!.approvalId! };
  }

  async function waitStatus(runId: string, status: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const r = await s.gql<{ run: { status: string } }>(TOKENS.viewer, `query($id: ID!) { run(runId: $id) { status } }`, { id: runId });
      if (r.body.data?.run.status === status) return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`run ${runId} never reached ${status}`);
  }

  it('startRun with an idempotency key starts one run, however often it is retried', async () => {
    const a = await s.gql<{ startRun: RunData }>(TOKENS.developer, START, { input: deployInput('k-1') });
    const b = await s.gql<{ startRun: RunData }>(TOKENS.developer, START, { input: deployInput('k-1') });
    expect(a.body.data!.startRun.id).toBe(b.body.data!.startRun.id);
    const started = (await s.app.store.readStream(`run-${a.body.data!.startRun.id}`)).filter((e) => e.type === 'RunStarted');
    expect(started).toHaveLength(1);
  });

  it('startRun from a playbook; approve by an eligible other principal; the run finishes', async () => {
    const r = await s.gql<{ startRun: RunData }>(TOKENS.developer, START, { input: { goal: 'release', profile: 'enterprise', playbook: { name: 'release', params: { environment: 'staging', version: '2.0' } } } });
    expect(r.body.errors).toBeUndefined();
    const runId = r.body.data!.startRun.id;
    const pending = async () => (await s.gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string; runId: string } }> } }>(TOKENS.tech_lead, `{ pendingApprovals { edges { node { approvalId runId } } } }`)).body.data!.pendingApprovals.edges.map((e) => e.node).filter((n) => n.runId === runId);
    let mine: Array<{ approvalId: string }> = [];
    for (let i = 0; i < 100 && mine.length === 0; i++) { mine = await pending(); if (mine.length === 0) await new Promise((res) => setTimeout(res, 20)); }
    expect(mine).toHaveLength(1);
    const own = await s.gql(TOKENS.developer, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: mine[0]!.approvalId });
    expect(code(own)).toBe('UNAUTHORIZED'); // self-approval
    const ok = await s.gql<{ approve: { approval: { status: string; approvers: string[] }; run: RunData } }>(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "train", editedInput: { environment: "staging", version: "2.0.1" } }) { approval { status approvers } run { ${RUN} } } }`, { id: mine[0]!.approvalId });
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data!.approve.approval).toEqual({ status: 'GRANTED', approvers: ['bob'] });
    expect(ok.body.data!.approve.run.steps.find((x) => x.id === 'deploy')!.approvalStatus).toBe('GRANTED');
    const twice = await s.gql(TOKENS.devops_engineer, `mutation($id: ID!) { approve(input: { approvalId: $id }) { approval { status } } }`, { id: mine[0]!.approvalId });
    expect(code(twice)).toBe('CONFLICT');
    await waitStatus(runId, 'SUCCEEDED');
    // The trace is the run's stream: every event, in order, with stage, actor and position.
    const traced = await s.gql<{ run: { trace: Array<{ position: string; revision: number; type: string; stage: string; actor: string; stepId: string | null }> } }>(
      TOKENS.viewer,
      `query($id: ID!) { run(runId: $id) { trace { position revision type stage actor stepId } } }`,
      { id: runId },
    );
    const stream = await s.app.store.readStream(`run-${runId}`);
    expect(traced.body.data!.run.trace).toEqual(
      stream.map((e) => ({ position: e.position, revision: e.revision, type: e.type, stage: expect.any(String), actor: e.metadata.actor, stepId: (e.data as { stepId?: string }).stepId ?? null })),
    );
    expect(traced.body.data!.run.trace.find((t) => t.type === 'ApprovalGranted')).toMatchObject({ stage: 'APPROVE', actor: 'user:bob', stepId: 'deploy' });
    const closed = await s.gql<{ approval: { status: string; input: Record<string, unknown> } }>(TOKENS.developer, `query($id: ID!) { approval(approvalId: $id) { status input } }`, { id: mine[0]!.approvalId });
    expect(closed.body.data!.approval.status).toBe('GRANTED');
  });

  it('deny fails the step and the run; cancelApproval by the requester only; cancelRun; resumeRun', async () => {
    const d = await gatedRun();
    const denied = await s.gql<{ deny: { approval: { status: string }; run: { status: string } } }>(TOKENS.devops_engineer, `mutation($id: ID!) { deny(input: { approvalId: $id, justification: "not today" }) { approval { status } run { status } } }`, { id: d.approvalId });
    expect(denied.body.data!.deny).toEqual({ approval: { status: 'DENIED' }, run: { status: 'FAILED' } });

    const c = await gatedRun();
    expect(code(await s.gql(TOKENS.developer2, `mutation($id: ID!) { cancelApproval(input: { approvalId: $id }) { approval { status } } }`, { id: c.approvalId }))).toBe('UNAUTHORIZED');
    const cancelled = await s.gql<{ cancelApproval: { approval: { status: string } } }>(TOKENS.developer, `mutation($id: ID!) { cancelApproval(input: { approvalId: $id, reason: "changed my mind" }) { approval { status } } }`, { id: c.approvalId });
    expect(cancelled.body.data!.cancelApproval.approval.status).toBe('CANCELLED');

    const r = await gatedRun();
    expect(code(await s.gql(TOKENS.developer2, `mutation($id: ID!) { cancelRun(runId: $id) { status } }`, { id: r.runId }))).toBe('UNAUTHORIZED');
    const cr = await s.gql<{ cancelRun: { status: string } }>(TOKENS.developer, `mutation($id: ID!) { cancelRun(runId: $id, reason: "stop") { status } }`, { id: r.runId });
    expect(cr.body.data!.cancelRun.status).toBe('CANCELLED');
    expect(code(await s.gql(TOKENS.developer, `mutation($id: ID!) { cancelRun(runId: $id) { status } }`, { id: r.runId }))).toBe('CONFLICT');

    failNext = true;
    const f = await s.gql<{ startRun: RunData }>(TOKENS.requester, START, { input: { goal: 'flaky', profile: 'enterprise', steps: [{ id: 'a', tool: 'test.flaky', domain: 'test', input: {} }] } });
    const runId = f.body.data!.startRun.id;
    await waitStatus(runId, 'FAILED');
    const resumed = await s.gql<{ resumeRun: { status: string } }>(TOKENS.tech_lead, `mutation($id: ID!) { resumeRun(runId: $id) { status } }`, { id: runId });
    expect(resumed.body.errors).toBeUndefined();
    await waitStatus(runId, 'SUCCEEDED');
  });

  it('escalateApproval hands the request on; a viewer may not', async () => {
    const g = await gatedRun();
    const r = await s.gql<{ escalateApproval: { approval: { eligibleRoles: string[]; status: string } } }>(TOKENS.tech_lead, `mutation($id: ID!) { escalateApproval(input: { approvalId: $id, reason: "prod" }) { approval { eligibleRoles status } } }`, { id: g.approvalId });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    expect(r.body.data!.escalateApproval.approval.eligibleRoles).toContain('devops_engineer');
    expect(code(await s.gql(TOKENS.viewer, `mutation($id: ID!) { escalateApproval(input: { approvalId: $id }) { approval { status } } }`, { id: g.approvalId }))).toBe('UNAUTHORIZED');
  });

  it('every query answers: runs (filters, paging), runEvents (audit replay), approvals, budget, signals, catalogs, me', async () => {
    await gatedRun();
    const g = await gatedRun(TOKENS.requester);
    const since = new Date(Date.now() - 60_000).toISOString();
    const runs = await s.gql<{ runs: { totalCount: number; edges: Array<{ node: { id: string } }> } }>(TOKENS.viewer,
      `query($f: RunsFilter) { runs(filter: $f, first: 1) { totalCount edges { node { id: runId } } pageInfo { endCursor hasNextPage } } }`, { f: { requester: 'rita', profile: 'enterprise', startedAfter: since, status: 'RUNNING' } });
    expect(runs.body.errors, JSON.stringify(runs.body.errors)).toBeUndefined();
    expect(runs.body.data!.runs.edges[0]!.node.id).toBe(g.runId);
    const all = await s.gql<{ runs: { totalCount: number; pageInfo: { endCursor: string; hasNextPage: boolean } } }>(TOKENS.viewer, `{ runs(first: 2) { totalCount pageInfo { endCursor hasNextPage } } }`);
    expect(all.body.data!.runs.pageInfo.hasNextPage).toBe(true);
    const next = await s.gql<{ runs: { edges: unknown[] } }>(TOKENS.viewer, `query($a: String) { runs(first: 2, after: $a) { edges { cursor } } }`, { a: all.body.data!.runs.pageInfo.endCursor });
    expect(next.body.data!.runs.edges.length).toBeGreaterThan(0);
    const none = await s.gql<{ runs: { totalCount: number } }>(TOKENS.viewer, `{ runs(filter: { startedBefore: "2000-01-01T00:00:00Z" }) { totalCount } }`);
    expect(none.body.data!.runs.totalCount).toBe(0);

    type Ev = { type: string; stage: string; position: string; revision: number; cursor: string };
    const p1 = await s.gql<{ runEvents: { edges: Array<{ node: Ev }>; pageInfo: { endCursor: string; hasNextPage: boolean } } }>(TOKENS.developer, `query($id: ID!) { runEvents(runId: $id, first: 2) { edges { node { type stage position revision cursor hash data } } pageInfo { endCursor hasNextPage } } }`, { id: g.runId });
    expect(p1.body.data!.runEvents.edges.map((e) => [e.node.type, e.node.stage])).toEqual([['RunStarted', 'INITIALIZE'], ['PlanCreated', 'PLAN']]);
    const p2 = await s.gql<{ runEvents: { edges: Array<{ node: Ev }> } }>(TOKENS.developer, `query($id: ID!, $a: String) { runEvents(runId: $id, after: $a) { edges { node { type revision } } } }`, { id: g.runId, a: p1.body.data!.runEvents.pageInfo.endCursor });
    expect(p2.body.data!.runEvents.edges[0]!.node).toEqual({ type: 'StepRouted', revision: 2 });

    const mine = await s.gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string } }> } }>(TOKENS.requester, `{ pendingApprovals(scope: MINE) { edges { node { approvalId } } } }`);
    expect(mine.body.data!.pendingApprovals.edges.map((e) => e.node.approvalId)).toContain(g.approvalId);
    const actionable = await s.gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string } }> } }>(TOKENS.requester, `{ pendingApprovals { edges { node { approvalId } } } }`);
    expect(actionable.body.data!.pendingApprovals.edges.map((e) => e.node.approvalId)).not.toContain(g.approvalId);
    expect(code(await s.gql(TOKENS.developer, `{ pendingApprovals(scope: ALL) { totalCount } }`))).toBe('UNAUTHORIZED');
    const everything = await s.gql<{ pendingApprovals: { totalCount: number } }>(TOKENS.viewer, `{ pendingApprovals(scope: ALL, risk: [high], first: 1) { totalCount pageInfo { endCursor } } }`);
    expect(everything.body.data!.pendingApprovals.totalCount).toBeGreaterThan(0);
    const one = await s.gql<{ approval: { status: string; requester: { id: string } } }>(TOKENS.tech_lead, `query($id: ID!) { approval(approvalId: $id) { status requester { id } ageMs risk { level score } } }`, { id: g.approvalId });
    expect(one.body.data!.approval).toMatchObject({ status: 'OPEN', requester: { id: 'rita' } });

    const budget = await s.gql(TOKENS.viewer, `query($id: String) { budget(scope: { runId: $id }) { runId profile lines { scope used limit percent } } }`, { id: g.runId });
    expect(budget.body.errors, JSON.stringify(budget.body.errors)).toBeUndefined();
    const pb = await s.gql<{ budget: { profile: string } }>(TOKENS.viewer, `{ budget(scope: { profile: "enterprise" }) { profile runs liveRuns lines { scope used } } }`);
    expect(pb.body.data!.budget.profile).toBe('enterprise');
    expect(code(await s.gql(TOKENS.viewer, `{ budget(scope: {}) { profile } }`))).toBe('BAD_USER_INPUT');
    const signals = await s.gql(TOKENS.viewer, `{ goldenSignals(scope: "overall", window: LAST_1H) { scope window calls successRate latencyMs { p50 p99 } approvalWaitMs { count } throughput } }`);
    expect(signals.body.errors, JSON.stringify(signals.body.errors)).toBeUndefined();
    const catalogs = await s.gql<{ tools: { totalCount: number }; profiles: { totalCount: number }; me: { id: string; operations: string[] } }>(TOKENS.viewer, `{ tools(first: 2) { totalCount edges { node { name requiresApproval inputSchema } } pageInfo { hasNextPage endCursor } } workers { edges { node { name concurrency } } } profiles { totalCount edges { node { name budget routing } } } me { id role isAdmin operations } }`);
    expect(catalogs.body.errors, JSON.stringify(catalogs.body.errors)).toBeUndefined();
    expect(catalogs.body.data!.tools.totalCount).toBe(4);
    expect(catalogs.body.data!.profiles.totalCount).toBe(3);
    expect(catalogs.body.data!.me.id).toBe('vera');
    expect(catalogs.body.data!.me.operations).not.toContain('startRun');
  });

  it('error codes: BAD_USER_INPUT, UNAUTHENTICATED (401), UNAUTHORIZED, NOT_FOUND, CONFLICT, request errors; nothing appended', async () => {
    const before = await s.eventCount();
    const bad = await s.gql(TOKENS.developer, START, { input: { goal: 'x', profile: 'enterprise' } });
    expect([bad.status, code(bad)]).toEqual([200, 'BAD_USER_INPUT']);
    expect(code(await s.gql(TOKENS.developer, START, { input: { goal: 'x', profile: 'nope', steps: [{ id: 'a', tool: 'file.read', domain: 'f', input: {} }] } }))).toBe('BAD_USER_INPUT');
    expect(code(await s.gql(TOKENS.developer, START, { input: { goal: 'x', profile: 'enterprise', steps: [{ id: 'a b', tool: 'file.read', domain: 'f', input: {} }] } }))).toBe('BAD_USER_INPUT');
    expect(code(await s.gql(TOKENS.developer, `{ run(runId: "no such run!") { status } }`))).toBe('BAD_USER_INPUT');
    expect(code(await s.gql(TOKENS.developer, `{ runs(after: "garbage") { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect(code(await s.gql(TOKENS.developer, `{ runs(first: 1000) { totalCount } }`))).toMatch(/BAD_USER_INPUT|QUERY_TOO_COMPLEX/);
    const anon = await s.gql(undefined, `{ me { id } }`);
    expect([anon.status, code(anon)]).toEqual([401, 'UNAUTHENTICATED']);
    const wrong = await s.gql('not-a-token-at-all-really', `{ me { id } }`);
    expect([wrong.status, code(wrong)]).toEqual([401, 'UNAUTHENTICATED']);
    expect(code(await s.gql(TOKENS.viewer, START, { input: deployInput() }))).toBe('UNAUTHORIZED');
    expect(code(await s.gql(TOKENS.viewer, `{ run(runId: "missing") { status } }`))).toBe('NOT_FOUND');
    expect(code(await s.gql(TOKENS.viewer, `{ runEvents(runId: "missing") { edges { cursor } } }`))).toBe('NOT_FOUND');
    expect(code(await s.gql(TOKENS.tech_lead, `{ approval(approvalId: "missing/step/1") { status } }`))).toBe('NOT_FOUND');
    expect(code(await s.gql(TOKENS.tech_lead, `mutation { approve(input: { approvalId: "missing/step/1" }) { approval { status } } }`))).toMatch(/NOT_FOUND|CONFLICT/);
    const parse = await s.gql(TOKENS.viewer, `{ me { id `);
    expect([parse.status, code(parse)]).toEqual([400, 'GRAPHQL_PARSE_FAILED']);
    const invalid = await s.gql(TOKENS.viewer, `{ me { passwor } }`);
    expect([invalid.status, code(invalid)]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(invalid.body)).not.toMatch(/Did you mean/);
    const vars = await s.gql(TOKENS.viewer, `query($n: Int) { runs(first: $n) { totalCount } }`, { n: 'many' });
    expect([vars.status, code(vars)]).toEqual([400, 'BAD_USER_INPUT']);
    expect(await s.eventCount()).toBe(before);
  });

  it('CSRF prevention: a simple (form-like) request is refused', async () => {
    const res = await fetch(`${s.url}?query=${encodeURIComponent('{ me { id } }')}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(res.status).toBe(400);
    const form = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKENS.viewer}` }, body: '{"query":"{ me { id } }"}' });
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(form.status).toBeLessThan(500);
  });

  it('/healthz and /metrics', async () => {
    const base = s.url.replace('/graphql', '');
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ ok: true, store: 'sqlite' });
    const m = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['gatehouse_approval_requests_total', 'gatehouse_approval_wait_seconds', 'gatehouse_tool_call_duration_seconds', 'gatehouse_runs_total', 'gatehouse_projection_lag_events']) expect(m).toContain(name);
    expect(m).toMatch(/gatehouse_approval_requests_total\{risk="medium"\} [1-9]/);
  });
});
