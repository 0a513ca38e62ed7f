import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createWebhookApprover } from '../../src/adapters/approvers/webhook-approver.js';
import type { Approver } from '../../src/domain/ports/approver.js';
import type { RunState } from '../../src/domain/run/state.js';
import type { Clock } from '../../src/orchestrator/clock.js';
import type { RunEngineOptions } from '../../src/orchestrator/engine.js';
import { defineTool, ToolError } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, type EngineHarness, engineHarness, restartedEngine } from '../support/engine-harness.js';

/**
 * Exactly once across instances (issue #17 item 3): several engines on one SQLite store, each
 * holding the same run, as several Gatehouse instances would. Whatever becomes due (a timer, an
 * automated approver's consultation) happens once in the cluster, not once per
 * engine.
 */
const Any = z.record(z.string(), z.unknown());
const invoked: string[] = [];
const gatedTool = defineTool({
  name: 'pay', description: 'a gated payment', input: Any, domain: 'ops', idempotent: false, timeoutMs: 5_000,
  action: { category: 'payments', operation: 'transfer' },
  approval: { eligibleRoles: ['tech_lead'], timeoutMs: 60_000, onTimeout: 'deny' },
  handler: (_i, ctx) => { invoked.push(ctx.idempotencyKey); return { paid: true }; },
});
const flakyTool = defineTool({
  name: 'flaky', description: 'fails its first attempt', input: Any, domain: 'ops', idempotent: true, timeoutMs: 5_000,
  action: { category: 'read', operation: 'read' }, retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 },
  handler: (_i, ctx) => {
    invoked.push(ctx.idempotencyKey);
    if (ctx.attempt === 1) throw new ToolError('AGENT', 'first attempt fails');
    return { ok: true };
  },
});
const tools = [gatedTool, flakyTool];
const terminal = (s: RunState) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

type Member = { engine: EngineHarness['engine']; api: EngineHarness['api']; close: () => Promise<void> };
let h: EngineHarness | undefined;
let others: Member[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const o of others.splice(0)) await o.close();
  invoked.length = 0;
  if (h) { expect(h.errors.filter((e) => !/the engine is closed|engine shutting down/.test(String(e)))).toEqual([]); await h.close(); h = undefined; }
});

/** `n` engines on one SQLite file, all started (recovering, then following the log). */
async function cluster(n: number, options: (i: number) => Partial<Omit<RunEngineOptions, 'store' | 'tools'>> = () => ({})): Promise<Member[]> {
  h = await engineHarness(tools, options(0));
  const members: Member[] = [h];
  for (let i = 1; i < n; i++) members.push(restartedEngine(h, tools, options(i)));
  others = members.slice(1);
  for (const m of members) await m.engine.start();
  return members;
}

/** Resolves once `condition` holds, polling: a wait on a condition, never a fixed sleep. */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once every engine holds the run at the head of its stream (each would act on a timer). */
async function allHold(members: Member[], runId: string): Promise<void> {
  const head = async () => (await h!.store.readStream(`run-${runId}`)).length - 1;
  await until(async () => { const r = await head(); return members.every((m) => m.engine.knownRevision(runId) === r); }, `every engine to hold ${runId}`);
  // Drain each engine's queue for the run: whatever its wake-ups started has been decided.
  for (const m of members) await m.engine.execute(runId, []);
}

/** Every engine has applied the log as it is now and decided what that made due. */
async function settle(members: Member[], runId: string): Promise<void> {
  for (const m of members) await m.engine.caughtUp();
  for (const m of members) await m.engine.execute(runId, []);
}

const types = async (runId: string) => (await h!.store.readStream(`run-${runId}`)).map((e) => e.type);
const count = (list: string[], type: string) => list.filter((t) => t === type).length;

/** A webhook approver service that counts requests and holds each answer until released. */
async function countingApprover(answer: { decision: 'approve' | 'deny' | 'handover'; reason: string }) {
  const held: ServerResponse[] = [];
  let released = false;
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      requests.push((JSON.parse(body) as { approvalId: string }).approvalId);
      if (released) res.end(JSON.stringify(answer));
      else held.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`;
  cleanups.push(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });
  return {
    requests,
    approver: (timeoutMs = 5_000): Approver => createWebhookApprover({ name: 'policy-bot', url, secret: async () => 'k', timeoutMs }),
    release() { released = true; for (const res of held.splice(0)) res.end(JSON.stringify(answer)); },
    /** Answers nothing to what is held now (a consultation whose instance dies with it). */
    drop() { for (const res of held.splice(0)) res.destroy(); },
  };
}

const start = (m: Member, runId: string, extra: Record<string, unknown> = {}, tool = 'pay') =>
  m.api.startRun({ runId, goal: runId, profile: 'technical', errorStrategy: 'RETRY', steps: [{ id: 's', tool, input: {}, domain: 'ops' }], ...extra }, alice);

describe('an automated approver is consulted once per request across instances', () => {
  it('three engines hold the gated run; only the engine whose claim is appended asks the webhook', async () => {
    const svc = await countingApprover({ decision: 'handover', reason: 'humans please' });
    const members = await cluster(3, () => ({ approvers: [svc.approver()] }));
    const [a, b, c] = members as [Member, Member, Member];
    const state = await start(a, 'r1');
    await allHold(members, 'r1');
    svc.release();
    await a.engine.waitFor('r1', (s) => s.steps[0]?.gate?.consulted === true);
    await b.api.grantApproval({ approvalId: state.steps[0]?.gate?.approvalId as string }, bob);
    await until(async () => (await types('r1')).includes('RunCompleted'), 'the run to complete');
    // Every consultation that was started has finished (shutdown waits for work in flight).
    for (const m of [c, b, a]) await m.engine.shutdown(10_000);
    expect(svc.requests).toHaveLength(1);
    const log = await types('r1');
    expect(count(log, 'ApproverConsultationStarted')).toBe(1);
    expect(count(log, 'ApprovalEscalated')).toBe(1);
    expect(invoked).toHaveLength(1);
  });

  it('a consultation whose instance died is taken over once its lease has passed, never earlier', async () => {
    const svc = await countingApprover({ decision: 'handover', reason: 'humans please' });
    // The lease is the approvers' timeouts plus the grace: 300 + 200 ms here.
    const members = await cluster(2, () => ({ approvers: [svc.approver(300)], interruptGraceMs: 200 }));
    const [a, b] = members as [Member, Member];
    await start(a, 'r2');
    await allHold(members, 'r2');
    await until(() => svc.requests.length >= 1, 'the first consultation');
    await a.engine.close(); // the instance that claimed it is gone, its request unanswered
    svc.drop();
    svc.release();
    await b.engine.waitFor('r2', (s) => s.steps[0]?.gate?.consulted === true);
    const events = await h!.store.readStream('run-r2');
    const claims = events.filter((e) => e.type === 'ApproverConsultationStarted').map((e) => e.data as { instance: string; startedAt: string; leaseUntil: string });
    expect(claims).toHaveLength(2);
    expect(claims[0]!.instance).not.toBe(claims[1]!.instance);
    expect(Date.parse(claims[0]!.leaseUntil) - Date.parse(claims[0]!.startedAt)).toBe(500);
    expect(claims[1]!.startedAt >= claims[0]!.leaseUntil).toBe(true);
    expect(svc.requests).toHaveLength(2);
  });
});

describe('each durable timer fires once in the cluster', () => {
  /** One clock for every engine, moved by the test: every engine sees the timer due at once. */
  function sharedClock(): Clock & { advance(ms: number): void } {
    let t = Date.now();
    return { now: () => new Date(t), advance: (ms) => { t += ms; } };
  }

  it.each([
    ['approval expiry', 'ApprovalExpired', 'pay', {}],
    ['retry due', 'ToolCallStarted', 'flaky', {}],
    ['run deadline', 'RunFailed', 'pay', { deadline: 'soon' }],
  ] as const)('%s: three engines hold the run when it comes due -> one %s', async (_name, type, tool, extra) => {
    const clock = sharedClock();
    const members = await cluster(3, () => ({ clock }));
    const runId = `t-${type}`;
    const deadline = 'deadline' in extra ? { deadline: new Date(clock.now().getTime() + 30_000).toISOString() } : {};
    await start(members[0]!, runId, deadline, tool);
    if (tool === 'flaky') await members[0]!.engine.waitFor(runId, (s) => s.steps[0]?.status === 'RETRY_WAIT');
    await allHold(members, runId);
    const before = count(await types(runId), type);
    clock.advance(120_000); // past the expiry, the retry and the deadline
    // Every engine's timer fires now: each one looks at the run.
    await Promise.all(members.map((m) => m.engine.execute(runId, [])));
    await settle(members, runId);
    if (tool === 'flaky') await members[0]!.engine.waitFor(runId, terminal);
    expect(count(await types(runId), type) - before).toBe(1);
    if (tool === 'flaky') expect(invoked).toEqual([`${runId}:s:1`, `${runId}:s:2`]);
  });
});
