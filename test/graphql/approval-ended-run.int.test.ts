import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

// A read (auto-approved by the policy) that always fails: it fails a FAIL_FAST run while another step waits at its gate.
const broken = defineTool({
  name: 'test.broken', description: 'always fails', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 1_000,
  handler: () => { throw new ToolError('USER', 'bad request'); },
});

// Fails its first call only: it fails a FAIL_FAST run, and the resumed run goes on past it.
let onceCalls = 0;
const failsOnce = defineTool({
  name: 'test.fails-once', description: 'fails its first call', input: z.object({}).loose(), domain: 'test',
  action: { category: 'test', operation: 'read' }, idempotent: true, timeoutMs: 1_000,
  handler: () => {
    if (++onceCalls === 1) throw new ToolError('USER', 'bad request');
    return { ok: true };
  },
});

const deploy = { id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'production', version: '1.0' } };
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id: runId steps { id approvalId } } }`;
const RUN = `query($id: ID!) { run(runId: $id) { status steps { id approvalStatus } } }`;
const APPROVAL = `query($id: ID!) { approval(approvalId: $id) { status } }`;

describe('GraphQL over real HTTP: the approval of a run that ended before anyone decided it', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer({ tools: [broken, failsOnce] }); });
  afterAll(async () => { await s?.close(); });

  async function start(steps: unknown[], errorStrategy?: string): Promise<{ runId: string; approvalId: string }> {
    const r = await s.gql<{ startRun: { id: string; steps: Array<{ id: string; approvalId: string | null }> } }>(TOKENS.developer, START, { input: { goal: 'ship', profile: 'enterprise', errorStrategy, steps } });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    const run = r.body.data!.startRun;
    return { runId: run.id, approvalId: run.steps.find((x) => x.id === 'ship')!.approvalId! };
  }

  async function runOf(runId: string, status: string): Promise<{ status: string; steps: Array<{ id: string; approvalStatus: string | null }> }> {
    for (let i = 0; i < 500; i++) {
      const r = await s.gql<{ run: { status: string; steps: Array<{ id: string; approvalStatus: string | null }> } }>(TOKENS.viewer, RUN, { id: runId });
      if (r.body.data?.run.status === status) return r.body.data.run;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`run ${runId} never reached ${status}`);
  }

  it('a cancelled run: its undecided approval reads CANCELLED, in approval() and in the run', async () => {
    const { runId, approvalId } = await start([deploy]);
    expect((await s.gql<{ approval: { status: string } }>(TOKENS.viewer, APPROVAL, { id: approvalId })).body.data!.approval.status).toBe('OPEN');
    const cancelled = await s.gql(TOKENS.developer, `mutation($id: ID!) { cancelRun(runId: $id, reason: "stop") { status } }`, { id: runId });
    expect(cancelled.body.errors).toBeUndefined();
    const run = await runOf(runId, 'CANCELLED');
    expect(run.steps.find((x) => x.id === 'ship')!.approvalStatus).toBe('CANCELLED');
    const read = await s.gql<{ approval: { status: string } }>(TOKENS.viewer, APPROVAL, { id: approvalId });
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data!.approval.status).toBe('CANCELLED');
  });

  it('a failed run: its undecided approval reads CANCELLED; nobody can decide it', async () => {
    const { runId, approvalId } = await start([deploy, { id: 'check', tool: 'test.broken', domain: 'test', input: {} }], 'FAIL_FAST');
    const run = await runOf(runId, 'FAILED');
    expect(run.steps.find((x) => x.id === 'ship')!.approvalStatus).toBe('CANCELLED');
    const read = await s.gql<{ approval: { status: string } }>(TOKENS.viewer, APPROVAL, { id: approvalId });
    expect(read.body.data!.approval.status).toBe('CANCELLED');
    const vote = await s.gql(TOKENS.tech_lead, `mutation($id: ID!) { approve(input: { approvalId: $id, justification: "late" }) { approval { status } } }`, { id: approvalId });
    expect(vote.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('a resumed run: its undecided approval is OPEN again and back in pendingApprovals', async () => {
    const { runId, approvalId } = await start([deploy, { id: 'check', tool: 'test.fails-once', domain: 'test', input: {} }], 'FAIL_FAST');
    await runOf(runId, 'FAILED');
    const pending = async () => {
      const r = await s.gql<{ pendingApprovals: { edges: Array<{ node: { approvalId: string } }> } }>(TOKENS.tech_lead, `{ pendingApprovals(first: 100) { edges { node { approvalId } } } }`);
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data!.pendingApprovals.edges.map((e) => e.node.approvalId);
    };
    expect(await pending()).not.toContain(approvalId);
    const resumed = await s.gql(TOKENS.developer, `mutation($id: ID!) { resumeRun(runId: $id, reason: "retry") { status } }`, { id: runId });
    expect(resumed.body.errors, JSON.stringify(resumed.body.errors)).toBeUndefined();
    const run = await runOf(runId, 'RUNNING');
    expect(run.steps.find((x) => x.id === 'ship')!.approvalStatus).toBe('OPEN');
    // The read model follows the log: wait until it lists the request (it never did before the fix).
    let listed: string[] = [];
    for (let i = 0; i < 500 && !listed.includes(approvalId); i++) {
      listed = await pending();
      if (!listed.includes(approvalId)) await new Promise((res) => setTimeout(res, 20));
    }
    expect(listed).toContain(approvalId);
  });
});
