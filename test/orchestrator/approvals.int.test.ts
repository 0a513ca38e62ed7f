import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRulesApprover } from '../../src/adapters/approvers/rules-approver.js';
import { createWebhookApprover } from '../../src/adapters/approvers/webhook-approver.js';
import { ApprovalPolicyConfig, defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { DomainError, IllegalStateError, UnauthorizedError, ValidationError } from '../../src/domain/errors.js';
import type { RunState } from '../../src/domain/run/state.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, carol, type EngineHarness, engineHarness, restartedEngine } from '../support/engine-harness.js';

const executed: string[] = [];
const tool = (name: string, category: string, operation: string, input: z.ZodType = z.record(z.string(), z.unknown())) =>
  defineTool({
    name, description: name, input, domain: 'ops', idempotent: false, timeoutMs: 1_000,
    action: { category, operation, environment: (i) => (typeof i.env === 'string' ? i.env : undefined) },
    handler: (i, ctx) => { executed.push(ctx.idempotencyKey); return { ran: name, input: i }; },
  });
const tools = [
  tool('files.read', 'files', 'read'),
  tool('files.write', 'files', 'write'),
  tool('deploy', 'deploy', 'release', z.object({ env: z.string(), version: z.string() })),
  tool('db.update', 'db', 'update'),
  tool('db.delete', 'db', 'delete'),
  tool('pay', 'payments', 'transfer'),
];
const dave = { id: 'dave', role: 'devops_engineer' };
const erin = { id: 'erin', role: 'devops_engineer' };
const dev2 = { id: 'dan', role: 'developer' };
const terminal = (s: RunState) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

let h: EngineHarness;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  executed.length = 0;
  expect(h.errors).toEqual([]);
  await h.close();
});

async function withPolicy(policy = defaultApprovalPolicy, extra: Parameters<typeof engineHarness>[1] = {}) {
  h = await engineHarness(tools, { approvalPolicy: policy, ...extra });
  await h.engine.start();
  return h;
}

/** Starts a one-step run and returns the open gate. */
async function gated(runId: string, toolName: string, input: Record<string, unknown> = {}, by = alice) {
  const state = await h.api.startRun({ runId, goal: runId, profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool: toolName, input, domain: 'ops' }] }, by);
  const gate = state.steps[0]?.gate;
  if (!gate) throw new Error(`no gate on ${runId}: ${JSON.stringify(state.steps[0])}`);
  return gate;
}

/** Expects a typed refusal and that the log did not change. */
async function refused(action: () => Promise<unknown>, kind: new (...a: never[]) => DomainError, message?: RegExp) {
  const before = (await h.store.readAll()).length;
  const error = await action().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(kind);
  if (message) expect((error as Error).message).toMatch(message);
  expect((await h.store.readAll()).length).toBe(before);
}

describe('review levels from the policy', () => {
  it('AUTO: a low-risk read is approved by rule in the same append, and the rule is named', async () => {
    await withPolicy();
    await h.api.startRun({ runId: 'auto', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'files.read', input: {}, domain: 'ops' }] }, alice);
    expect((await h.settled('auto')).status).toBe('SUCCEEDED');
    expect(await h.trace('auto')).toEqual(['RunStarted', 'PlanCreated', 'StepRouted(s)', 'ApprovalRequested(s)', 'ApprovalAutoApproved(s)', 'ToolCallStarted(s)', 'ToolCallSucceeded(s)', 'RunAggregated', 'RunCompleted']);
    const events = await h.store.readStream('run-auto');
    expect(events[3]?.data).toMatchObject({ tool: 'files.read', rule: 'read', reviewLevel: 'AUTO', risk: { level: 'low', score: 20 }, confidence: { score: 90 } });
    expect(events[4]?.data).toMatchObject({ approver: 'rules', rule: 'read', reason: 'low risk, confidence 90 ≥ 85' });
  });

  it('QUICK: one eligible approver; FULL for high with a justification; the request records all of it', async () => {
    await withPolicy();
    const quick = await gated('quick', 'files.write');
    expect(quick.request).toMatchObject({ reviewLevel: 'QUICK', requiredApprovals: 1, eligibleRoles: ['tech_lead', 'devops_engineer'], requester: alice, justificationRequired: false, priority: 'normal', onTimeout: 'deny' });
    await h.api.grantApproval({ approvalId: quick.approvalId }, bob);
    expect((await h.engine.waitFor('quick', terminal)).status).toBe('SUCCEEDED');

    const full = await gated('full', 'deploy', { env: 'production', version: '2.0' });
    expect(full.request).toMatchObject({ reviewLevel: 'FULL', risk: { level: 'high', factors: ['deploys to production'] }, justificationRequired: true, priority: 'urgent', input: { env: 'production', version: '2.0' } });
    expect(Date.parse(full.request.expiresAt) - Date.now()).toBeGreaterThan(89 * 60_000);
    await refused(() => h.api.grantApproval({ approvalId: full.approvalId }, bob), ValidationError, /justification/);
    await h.api.grantApproval({ approvalId: full.approvalId, justification: 'release 2.0 signed off' }, bob);
    expect((await h.engine.waitFor('full', terminal)).status).toBe('SUCCEEDED');
  });

  it('critical needs two distinct devops engineers', async () => {
    await withPolicy();
    const gate = await gated('crit', 'db.delete');
    expect(gate.request).toMatchObject({ reviewLevel: 'FULL', requiredApprovals: 2, eligibleRoles: ['devops_engineer'], risk: { level: 'critical' } });
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId, justification: 'ok' }, bob), UnauthorizedError, /role tech_lead/);
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'checked the rows' }, dave);
    expect((await h.api.getRun('crit')).steps[0]?.status).toBe('AWAITING_APPROVAL');
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId, justification: 'again' }, dave), IllegalStateError, /already voted/);
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'second pair of eyes' }, erin);
    expect((await h.engine.waitFor('crit', terminal)).status).toBe('SUCCEEDED');
    expect(executed).toEqual(['crit:s:1']);
    // Who did what: each vote is its approver's; the call the second vote let start is the engine's.
    const actors = (await h.store.readStream('run-crit')).map((e) => `${e.type}:${e.metadata.actor}`);
    expect(actors.slice(actors.indexOf('ApprovalGranted:user:dave'))).toEqual([
      'ApprovalGranted:user:dave', 'ApprovalGranted:user:erin', 'ToolCallStarted:system:engine', 'ToolCallSucceeded:system:engine', 'RunAggregated:system:engine', 'RunCompleted:system:engine',
    ]);
    expect(actors.slice(0, 2)).toEqual(['RunStarted:user:alice', 'PlanCreated:user:alice']);
  });
});

describe('the rules of the gate: refused with a typed error, nothing appended', () => {
  it('self-approval, an ineligible role, a vote on a closed gate, a vote after expiry', async () => {
    const fast = ApprovalPolicyConfig.parse({ ...defaultApprovalPolicy, levels: { ...defaultApprovalPolicy.levels, high: { ...defaultApprovalPolicy.levels.high, timeoutMinutes: 0.002 } } });
    await withPolicy(fast);
    const gate = await gated('rules', 'files.write', {}, bob);
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId }, bob), UnauthorizedError, /requested this/);
    await refused(() => h.api.denyApproval({ approvalId: gate.approvalId }, bob), UnauthorizedError, /requested this/);
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId }, dev2), UnauthorizedError, /role developer/);
    await h.api.denyApproval({ approvalId: gate.approvalId, justification: 'not now' }, carol);
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId }, dave), IllegalStateError, /closed/);
    await refused(() => h.api.grantApproval({ approvalId: 'rules/s/99' }, dave), DomainError);
    await refused(() => h.api.grantApproval({ approvalId: 'not-an-id' }, dave), ValidationError);

    const expiring = await gated('expiring', 'db.update');
    await h.engine.waitFor('expiring', (s) => s.steps[0]?.gate?.status !== 'OPEN');
    await refused(() => h.api.grantApproval({ approvalId: expiring.approvalId, justification: 'late' }, bob), IllegalStateError, /closed|expired/);
    const expired = (await h.store.readStream('run-expiring')).find((e) => e.type === 'ApprovalExpired');
    expect(expired?.data).toMatchObject({ outcome: 'denied' });
  });

  it('a requester over its role\'s pending limit cannot start another run', async () => {
    await withPolicy();
    for (let i = 0; i < 5; i++) await gated(`p${i}`, 'files.write');
    // A start whose first append would open a gate is refused; one whose step is AUTO takes no slot.
    await refused(() => h.api.startRun({ runId: 'p5', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'files.write', input: {}, domain: 'ops' }] }, alice), IllegalStateError, /5 open approval requests; role developer allows 5/);
    await h.api.startRun({ runId: 'p5-read', goal: 'x', profile: 'technical', steps: [{ id: 's', tool: 'files.read', input: {}, domain: 'ops' }] }, alice);
    // Another requester is not affected; deciding one request makes room again.
    await gated('other', 'files.write', {}, dev2);
    const p0 = (await h.api.getRun('p0')).steps[0]?.gate?.approvalId as string;
    await h.api.grantApproval({ approvalId: p0 }, bob);
    await h.engine.waitFor('p0', terminal);
    await gated('p5', 'files.write');
  });

  it('simultaneous starts of one requester cannot pass the pending limit together', async () => {
    await withPolicy();
    for (let i = 0; i < 3; i++) await gated(`q${i}`, 'files.write');
    const start = (i: number) => h.api.startRun({ runId: `qq${i}`, goal: 'x', profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool: 'files.write', input: {}, domain: 'ops' }] }, alice);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => start(i)));
    // Three open, the role allows five: two more starts pass, the other four are refused.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IllegalStateError);
    const ids = [0, 1, 2].map((i) => `q${i}`).concat([0, 1, 2, 3, 4, 5].map((i) => `qq${i}`));
    const open = await Promise.all(ids.map(async (id) => (await h.engine.getState(id)).steps.filter((s) => s.gate?.status === 'OPEN').length));
    expect(open.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('50 eligible approvers racing on one critical request: exactly the quorum is recorded', async () => {
    await withPolicy();
    const gate = await gated('race', 'db.delete');
    const approvers = Array.from({ length: 50 }, (_, i) => ({ id: `ops${i}`, role: 'devops_engineer' }));
    const results = await Promise.allSettled(approvers.map((a) => h.api.grantApproval({ approvalId: gate.approvalId, justification: 'race' }, a)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IllegalStateError);
    await h.engine.waitFor('race', terminal);
    const trace = await h.trace('race');
    expect(trace.filter((t) => t.startsWith('ApprovalGranted'))).toHaveLength(2);
    expect(executed).toEqual(['race:s:1']);
  });
});

describe('escalation, cancellation, edits, expiry after a restart', () => {
  it('a tech lead escalates to devops, who approves; a developer may not escalate', async () => {
    const leadOnly = ApprovalPolicyConfig.parse({ ...defaultApprovalPolicy, levels: { ...defaultApprovalPolicy.levels, medium: { ...defaultApprovalPolicy.levels.medium, eligibleRoles: ['tech_lead'] } } });
    await withPolicy(leadOnly);
    const gate = await gated('esc', 'files.write');
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId }, carol), UnauthorizedError);
    await refused(() => h.api.escalateApproval({ approvalId: gate.approvalId }, dev2), UnauthorizedError, /may not escalate/);
    await refused(() => h.api.escalateApproval({ approvalId: gate.approvalId, toRoles: ['admin'] }, bob), UnauthorizedError, /only to devops_engineer/);
    await h.api.escalateApproval({ approvalId: gate.approvalId, reason: 'needs ops eyes' }, bob);
    await h.api.grantApproval({ approvalId: gate.approvalId }, carol);
    expect((await h.engine.waitFor('esc', terminal)).status).toBe('SUCCEEDED');
    const escalated = (await h.store.readStream('run-esc')).find((e) => e.type === 'ApprovalEscalated');
    expect(escalated?.data).toMatchObject({ by: bob, toRoles: ['devops_engineer'], reason: 'needs ops eyes' });
  });

  it('the requester or an admin may cancel a request; nobody else', async () => {
    await withPolicy();
    const gate = await gated('cx', 'files.write');
    await refused(() => h.api.cancelApproval({ approvalId: gate.approvalId }, bob), UnauthorizedError);
    await h.api.cancelApproval({ approvalId: gate.approvalId, reason: 'wrong target' }, alice);
    const s = await h.engine.waitFor('cx', terminal);
    expect(s.failure).toMatchObject({ failureMode: 'POLICY', error: { code: 'APPROVAL_CANCELLED' } });
    const other = await gated('cx2', 'files.write');
    await h.api.cancelApproval({ approvalId: other.approvalId }, { id: 'root', role: 'admin', isAdmin: true });
    expect((await h.engine.waitFor('cx2', terminal)).status).toBe('FAILED');
  });

  it('an approver edits the input: validated against the tool schema, recorded, and used', async () => {
    await withPolicy();
    const gate = await gated('edit', 'deploy', { env: 'production', version: '3.0' });
    await refused(() => h.api.grantApproval({ approvalId: gate.approvalId, justification: 'x', editedInput: { env: 'staging' } }, bob), ValidationError, /edited input does not fit deploy/);
    await h.api.grantApproval({ approvalId: gate.approvalId, justification: 'staging first', editedInput: { env: 'staging', version: '3.0' } }, bob);
    await h.engine.waitFor('edit', terminal);
    const events = await h.store.readStream('run-edit');
    expect(events.find((e) => e.type === 'ApprovalRequested')?.data).toMatchObject({ input: { env: 'production', version: '3.0' } });
    expect(events.find((e) => e.type === 'ApprovalGranted')?.data).toMatchObject({ editedInput: { env: 'staging', version: '3.0' } });
    expect(events.find((e) => e.type === 'ToolCallStarted')?.data).toMatchObject({ input: { env: 'staging', version: '3.0' } });
  });

  it.each([['deny', 'FAILED'], ['approve', 'SUCCEEDED']] as const)('expiry from the config after an engine restart (onTimeout %s)', async (onTimeout, status) => {
    const short = ApprovalPolicyConfig.parse({ ...defaultApprovalPolicy, levels: { ...defaultApprovalPolicy.levels, medium: { ...defaultApprovalPolicy.levels.medium, timeoutMinutes: 0.004, onTimeout } } });
    await withPolicy(short);
    await gated('later', 'files.write');
    await h.engine.close();
    const next = restartedEngine(h, tools, { approvalPolicy: short });
    cleanups.push(next.close);
    await next.engine.start();
    expect((await next.engine.waitFor('later', terminal)).status).toBe(status);
    expect((await next.store.readStream('run-later')).filter((e) => e.type === 'ApprovalExpired')).toHaveLength(1);
  });
});

/** A local HTTP server that answers with `reply`, recording request bodies. */
async function listen(reply: (body: unknown, n: number, res: ServerResponse) => void) {
  const bodies: unknown[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => { text += c.toString(); });
    req.on('end', () => { bodies.push(JSON.parse(text)); reply(bodies.at(-1), bodies.length, res); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, bodies };
}

describe('automated approvers', () => {
  it.each([
    ['approve', 'SUCCEEDED', 'ApprovalAutoApproved'],
    ['deny', 'FAILED', 'ApprovalDenied'],
  ] as const)('a webhook approver that answers %s decides, and is named in the event', async (decision, status, type) => {
    const hook = await listen((_b, _n, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ decision, reason: `policy bot says ${decision}` })));
    await withPolicy(defaultApprovalPolicy, { approvers: [createWebhookApprover({ name: 'policy-bot', url: hook.url, timeoutMs: 2_000, secret: async () => 'hook-secret' })] });
    await gated('hook', 'files.write');
    expect((await h.engine.waitFor('hook', terminal)).status).toBe(status);
    const event = (await h.store.readStream('run-hook')).find((e) => e.type === type);
    expect(JSON.stringify(event?.data)).toContain('policy-bot');
    expect(event?.metadata.actor).toBe('approver:policy-bot');
    expect(hook.bodies[0]).toMatchObject({ runId: 'hook', tool: 'files.write', reviewLevel: 'QUICK', risk: { level: 'medium' } });
  });

  it('a webhook approver that does not answer in time hands over to humans', async () => {
    const hook = await listen(() => { /* never answers */ });
    await withPolicy(defaultApprovalPolicy, { approvers: [createWebhookApprover({ name: 'slow-bot', url: hook.url, timeoutMs: 100, secret: async () => 'hook-secret' })] });
    const gate = await gated('slowhook', 'files.write');
    await h.engine.waitFor('slowhook', (s) => s.steps[0]?.gate?.consulted === true);
    const handover = (await h.store.readStream('run-slowhook')).find((e) => e.type === 'ApprovalEscalated');
    expect(handover?.data).toMatchObject({ by: { id: 'approver:slow-bot', role: 'automated' }, reason: 'handed over to humans: slow-bot: no answer within 100 ms' });
    await h.api.grantApproval({ approvalId: gate.approvalId }, bob);
    expect((await h.engine.waitFor('slowhook', terminal)).status).toBe('SUCCEEDED');
  });

  it('config rules approve small payments and hand the rest to humans', async () => {
    const rules = createRulesApprover('payments-rules', [{ name: 'small', when: { tool: 'pay', maxAmount: 100 }, decision: 'approve', reason: 'small payment' }]);
    await withPolicy(defaultApprovalPolicy, { approvers: [rules] });
    await gated('small', 'pay', { amount: 50 });
    expect((await h.engine.waitFor('small', terminal)).status).toBe('SUCCEEDED');
    await gated('big', 'pay', { amount: 5000 });
    await h.engine.waitFor('big', (s) => s.steps[0]?.gate?.consulted === true);
    expect((await h.api.getRun('big')).steps[0]?.status).toBe('AWAITING_APPROVAL');
  });
});
