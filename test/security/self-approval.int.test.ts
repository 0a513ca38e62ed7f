import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtFile } from '../support/built.js';
import { type ServerHarness, startServer, TOKENS } from '../support/server-harness.js';

/**
 * Attack family: deciding your own request. The requester tries every door to the gate: GraphQL
 * approve and deny, approve with an edit, the CLI, escalating the request and then voting, and
 * (test/security/automated-approvers) an automated approver acting for them. Each is refused by
 * the decider, so every door gives the same answer, with nothing appended.
 * These held before this work (the decider's voter check); the tests document and pin them.
 */
const run = promisify(execFile);
const START = `mutation($i: StartRunInput!) { startRun(input: $i) { runId steps { approvalId } } }`;
const APPROVE = `mutation($i: ApproveInput!) { approve(input: $i) { approval { status } } }`;
const DENY = `mutation($i: DenyInput!) { deny(input: $i) { approval { status } } }`;
const ESCALATE = `mutation($i: EscalateInput!) { escalateApproval(input: $i) { approval { status eligibleRoles } } }`;

describe('a requester never decides their own request, whichever way they try', () => {
  let s: ServerHarness;
  beforeAll(async () => { s = await startServer(); });
  afterAll(async () => { await s?.close(); });

  /** A staging deploy (medium: tech lead or devops decide), requested by `token`'s principal. */
  async function request(token: string): Promise<string> {
    const r = await s.gql<{ startRun: { steps: Array<{ approvalId: string | null }> } }>(token, START, {
      i: { goal: 'ship', profile: 'technical', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'staging', version: '1.0' } }] },
    });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.startRun.steps[0]!.approvalId as string;
  }

  /** Events in the request's own run (other runs of this file may still be moving on in the background). */
  const runEvents = async (approvalId: string) => (await s.app.store.readStream(`run-${approvalId.split('/')[0]}`)).length;

  async function refused(token: string, query: string, input: { approvalId: string } & Record<string, unknown>): Promise<{ message: string; code?: string }> {
    const before = await runEvents(input.approvalId);
    const r = await s.gql(token, query, { i: input });
    expect(await runEvents(input.approvalId)).toBe(before);
    const e = r.body.errors?.[0];
    return { message: e?.message ?? '(accepted)', code: e?.extensions?.code };
  }

  it('GraphQL approve, approve with an edit, and deny by the requester: UNAUTHORIZED, nothing appended', async () => {
    const approvalId = await request(TOKENS.tech_lead); // bob, a tech lead, is eligible for this gate himself
    expect(await refused(TOKENS.tech_lead, APPROVE, { approvalId })).toEqual({ code: 'UNAUTHORIZED', message: `bob requested this and may not decide it` });
    expect((await refused(TOKENS.tech_lead, APPROVE, { approvalId, editedInput: { environment: 'dev', version: '1.0' } })).code).toBe('UNAUTHORIZED');
    expect((await refused(TOKENS.tech_lead, DENY, { approvalId, justification: 'changed my mind' })).code).toBe('UNAUTHORIZED');
  });

  it('escalate, then vote: the requester may widen who decides, but still not decide', async () => {
    const approvalId = await request(TOKENS.tech_lead);
    const esc = await s.gql<{ escalateApproval: { approval: { eligibleRoles: string[] } } }>(TOKENS.tech_lead, ESCALATE, { i: { approvalId, reason: 'ops should look' } });
    expect(esc.body.errors).toBeUndefined();
    expect(await refused(TOKENS.tech_lead, APPROVE, { approvalId })).toMatchObject({ code: 'UNAUTHORIZED', message: /bob requested this/ });
    // Someone else eligible still can.
    const ok = await s.gql<{ approve: { approval: { status: string } } }>(TOKENS.devops_engineer, APPROVE, { i: { approvalId } });
    expect(ok.body.data?.approve.approval.status).toBe('GRANTED');
  });

  it('the CLI (`gatehouse approvals approve`) as the requester: exit 1, UNAUTHORIZED, nothing appended', async () => {
    const approvalId = await request(TOKENS.tech_lead);
    const before = await runEvents(approvalId);
    const result = await run(process.execPath, [builtFile('src/cli/main.ts'), 'approvals', 'approve', approvalId, '-j', 'mine'], {
      env: { ...process.env, GATEHOUSE_URL: s.url, GATEHOUSE_TOKEN: TOKENS.tech_lead },
      timeout: 30_000,
    }).then(() => ({ code: 0, stderr: '' }), (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/UNAUTHORIZED/);
    expect(await runEvents(approvalId)).toBe(before);
  });
});
