import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApprovalPolicyConfig, defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { IllegalStateError } from '../../src/domain/errors.js';
import type { RequesterEvent } from '../../src/domain/events/index.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { evolveRequester, initialRequesterState, requesterStreamId } from '../../src/domain/requester/slots.js';
import type { RunState } from '../../src/domain/run/state.js';
import { RunEngine } from '../../src/orchestrator/engine.js';
import { Orchestrator } from '../../src/orchestrator/api.js';
import { defineTool, ToolRegistry } from '../../src/orchestrator/tools/tool.js';
import { parseConfig } from '../../src/orchestrator/config.js';
import { alice, bob, type EngineHarness, engineHarness, restartedEngine, teardownEach } from '../support/engine-harness.js';

const tool = (name: string, operation: string) =>
  defineTool({
    name, description: name, input: z.record(z.string(), z.unknown()), domain: 'ops', idempotent: true, timeoutMs: 1_000,
    action: { category: 'files', operation }, handler: () => ({ ran: name }),
  });
const tools = [tool('files.write', 'write'), tool('files.read', 'read')];
const rita = { id: 'rita', role: 'requester' };
const terminal = (s: RunState) => ['SUCCEEDED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status);

let h: EngineHarness;
const cleanups = teardownEach(() => h);

async function withPolicy(policy = defaultApprovalPolicy, extra: Parameters<typeof engineHarness>[1] = {}) {
  h = await engineHarness(tools, { approvalPolicy: policy, ...extra });
  await h.engine.start();
  return h;
}

const oneGate = (runId: string, by = alice, api = h.api) =>
  api.startRun({ runId, goal: runId, profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool: 'files.write', input: {}, domain: 'ops' }] }, by);

/**
 * Replays a requester's stream and checks the invariant at every event: never more slots held than
 * the limit, every release names a held slot. Returns the slots held at the end.
 */
async function checkRequesterStream(store: EventStore, requesterId: string, limit: number) {
  const events = await store.readStream(requesterStreamId(requesterId));
  let state = initialRequesterState();
  for (const e of events) {
    if (e.type === 'ApprovalSlotReleased') expect(state.held.map((s) => s.slotId)).toContain((e.data as { slotId: string }).slotId);
    state = evolveRequester(state, { type: e.type, data: e.data } as RequesterEvent);
    expect(state.held.length).toBeLessThanOrEqual(limit);
  }
  return { held: state.held, events };
}

/** Open gates of a requester, counted from the run streams. */
async function openGatesOf(store: EventStore, requesterId: string, runIds: string[], engine = h.engine) {
  let n = 0;
  for (const id of runIds) {
    const s = await engine.getState(id);
    if (s.status === 'RUNNING' && s.requestedBy?.id === requesterId) n += s.steps.filter((x) => x.gate?.status === 'OPEN').length;
  }
  void store;
  return n;
}

describe('pending-approval limits are an invariant of the log', () => {
  it('two engines on one SQLite file, 20 simultaneous starts of one developer: exactly 5 pass', async () => {
    await withPolicy();
    const other = restartedEngine(h, tools, { approvalPolicy: defaultApprovalPolicy });
    cleanups.push(other.close);
    await other.engine.start();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => oneGate(`r${i}`, alice, i % 2 === 0 ? h.api : other.api)));
    const passed = results.filter((r) => r.status === 'fulfilled');
    expect(passed).toHaveLength(5);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/pending limit reached: alice has 5 open approval requests; role developer allows 5/);
    const { held } = await checkRequesterStream(h.store, 'alice', 5);
    expect(held).toHaveLength(5);
    const runIds = Array.from({ length: 20 }, (_, i) => `r${i}`);
    expect(await openGatesOf(h.store, 'alice', runIds)).toBe(5);
    // Refused starts appended nothing to their runs.
    for (const [i, r] of results.entries()) if (r.status === 'rejected') expect(await h.store.readStream(`run-r${i}`)).toEqual([]);
  });

  it('a run that fans out past the limit: the gates beyond the free slots fail with POLICY PENDING_LIMIT', async () => {
    await withPolicy();
    await oneGate('first');
    const steps = Array.from({ length: 6 }, (_, i) => ({ id: `w${i}`, tool: 'files.write', input: {}, domain: 'ops' }));
    // CONTINUE: the refused steps fail, the rest wait for their approvers.
    const state = await h.api.startRun({ runId: 'fan', goal: 'fan', profile: 'technical', errorStrategy: 'CONTINUE', maxParallel: 10, steps: [{ id: 'r', tool: 'files.read', input: {}, domain: 'ops' }, ...steps.map((s) => ({ ...s, dependsOn: ['r'] }))] }, alice);
    expect(state.status).toBe('RUNNING');
    const after = await h.engine.waitFor('fan', (s) => s.steps.filter((x) => x.id.startsWith('w')).every((x) => x.status === 'AWAITING_APPROVAL' || x.status === 'FAILED'));
    const waiting = after.steps.filter((s) => s.status === 'AWAITING_APPROVAL');
    const failed = after.steps.filter((s) => s.status === 'FAILED');
    expect(waiting).toHaveLength(4);
    expect(failed).toHaveLength(2);
    for (const s of failed) {
      expect(s.failureMode).toBe('POLICY');
      expect(s.error).toMatchObject({ code: 'PENDING_LIMIT', message: expect.stringMatching(/pending limit reached: alice has 5/) });
    }
    const { held } = await checkRequesterStream(h.store, 'alice', 5);
    expect(held.map((s) => s.approvalId).sort()).toEqual([...waiting.map((s) => s.gate?.approvalId), (await h.api.getRun('first')).steps[0]?.gate?.approvalId].sort());
    // Deciding a gate gives its slot back (a release on the requester's stream).
    await h.api.grantApproval({ approvalId: waiting[0]?.gate?.approvalId as string }, bob);
    await expect.poll(async () => (await checkRequesterStream(h.store, 'alice', 5)).held.length).toBe(4);
    const released = (await h.store.readStream(requesterStreamId('alice'))).filter((e) => e.type === 'ApprovalSlotReleased');
    expect(released.map((e) => e.data)).toEqual([expect.objectContaining({ approvalId: waiting[0]?.gate?.approvalId, reason: 'gate_closed' })]);
  });

  it('every role has a limit: the requester role by default 10, any unnamed role the configured default', async () => {
    await withPolicy();
    for (let i = 0; i < 10; i++) await oneGate(`q${i}`, rita);
    await expect(oneGate('q10', rita)).rejects.toThrow(/rita has 10 open approval requests; role requester allows 10/);
    const custom = parseConfig({ approvals: { defaultMaxPending: 2, roles: { requester: { maxPending: 3 } } } }).approvals;
    expect(custom.roles.developer?.maxPending).toBe(5); // merged over the defaults
    const h2 = await engineHarness(tools, { approvalPolicy: custom });
    cleanups.push(h2.close);
    const bot = { id: 'bot', role: 'agent' };
    for (let i = 0; i < 2; i++) await oneGate(`b${i}`, bot, h2.api);
    await expect(oneGate('b2', bot, h2.api)).rejects.toBeInstanceOf(IllegalStateError);
    expect(await h2.store.readStream('run-b2')).toEqual([]);
    expect(() => parseConfig({ approvals: { defaultMaxPending: 0 } })).toThrow(/approvals.defaultMaxPending/);
  });

  it('a close whose release was lost (no limits where it was decided) is released from the log at the next shortage', async () => {
    await withPolicy();
    for (let i = 0; i < 5; i++) await oneGate(`c${i}`);
    // An engine without a policy has no limits: its grant appends no release, as a crash would lose it.
    const registry = new ToolRegistry(tools);
    const bare = new RunEngine({ store: h.store, tools: registry, drive: false });
    const bareApi = new Orchestrator({ engine: bare, tools: registry });
    const c0 = (await h.api.getRun('c0')).steps[0]?.gate?.approvalId as string;
    await bareApi.grantApproval({ approvalId: c0 }, bob);
    await bare.close();
    await h.engine.waitFor('c0', terminal);
    expect((await checkRequesterStream(h.store, 'alice', 5)).held).toHaveLength(5);
    await oneGate('c5');
    const { held, events } = await checkRequesterStream(h.store, 'alice', 5);
    expect(held).toHaveLength(5);
    expect(events.find((e) => e.type === 'ApprovalSlotReleased')?.data).toMatchObject({ approvalId: c0, reason: 'gate_closed' });
  });

  it('a slot reserved by an engine that died before recording its gate is freed after the grace, from the log', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    await withPolicy(defaultApprovalPolicy, { clock: { now: () => new Date(now) }, pendingSlotGraceMs: 60_000 });
    // What a crash between the two appends leaves: a reservation, and no gate in the run.
    await h.store.append(requesterStreamId('alice'), [{ type: 'ApprovalSlotReserved', data: { slotId: 'lost', approvalId: 'ghost/s/2', runId: 'ghost', requester: alice, limit: 5, reservedAt: new Date(now).toISOString() } , metadata: { correlationId: 'ghost', actor: 'system:engine' } }], { expectedRevision: 'no_stream' });
    for (let i = 0; i < 4; i++) await oneGate(`g${i}`);
    await expect(oneGate('g4')).rejects.toThrow(/alice has 5 open approval requests/);
    now += 60_000;
    await oneGate('g4');
    const { held, events } = await checkRequesterStream(h.store, 'alice', 5);
    expect(held.map((s) => s.slotId)).not.toContain('lost');
    expect(events.find((e) => e.type === 'ApprovalSlotReleased')?.data).toMatchObject({ slotId: 'lost', reason: 'orphaned' });
  });

  it('a cancelled run gives back the slots of its open gates', async () => {
    await withPolicy();
    await oneGate('x0');
    await h.api.cancelRun('x0', alice);
    await expect.poll(async () => (await checkRequesterStream(h.store, 'alice', 5)).held.length).toBe(0);
    const released = (await h.store.readStream(requesterStreamId('alice'))).filter((e) => e.type === 'ApprovalSlotReleased');
    expect(released.map((e) => (e.data as { reason: string }).reason)).toEqual(['run_ended']);
  });
});

void ApprovalPolicyConfig;
