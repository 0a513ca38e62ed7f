import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { channelsFrom } from '../../src/adapters/notifiers/channels.js';
import { fileCheckpoint } from '../../src/adapters/notifiers/file-checkpoint.js';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { defaultNotificationsConfig, type NotificationsConfig } from '../../src/domain/notifications/config.js';
import type { EventStore, RecordedEvent, Subscription } from '../../src/domain/ports/event-store.js';
import { NotificationDispatcher } from '../../src/orchestrator/notification-dispatcher.js';
import { loadRecord } from '../../src/orchestrator/notification-record.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { httpReceiver } from '../support/receivers.js';

const deploy = defineTool({
  name: 'deploy', description: 'deploy', input: z.object({ env: z.string() }), domain: 'ops', idempotent: false, timeoutMs: 1_000,
  action: { category: 'deploy', operation: 'release', environment: (i) => (typeof i.env === 'string' ? i.env : undefined) },
  handler: () => ({ ok: true }),
});
const N = 12;

let h: EngineHarness;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  expect(h.errors).toEqual([]);
  await h.close();
});

/** The store, with the run- events it hands out (reads and subscriptions) counted. */
function counting(store: EventStore) {
  const runEvents: RecordedEvent[] = [];
  const seen = (e: RecordedEvent) => { if (e.streamId.startsWith('run-')) runEvents.push(e); };
  const wrapped = Object.create(store) as EventStore;
  wrapped.readAll = async (...args) => { const page = await store.readAll(...args); page.forEach(seen); return page; };
  wrapped.subscribeToAll = (...args) => {
    const sub = store.subscribeToAll(...args);
    const next = async () => { const r = await sub.next(); if (!r.done) seen(r.value); return r; };
    const counted: Subscription = { next, close: () => sub.close(), return: async () => { await sub.close(); return { done: true, value: undefined }; }, [Symbol.asyncIterator]: () => counted };
    return counted;
  };
  return { store: wrapped, runEvents: () => runEvents };
}

const checkpointOf = () => fileCheckpoint(join(h.store.settings().path, '..', 'notifications.checkpoint'));

async function dispatcher(cfg: NotificationsConfig, wrap: (s: EventStore) => EventStore = (s) => s) {
  const raw = createSqliteEventStore({ path: h.store.settings().path });
  const d = new NotificationDispatcher({
    store: wrap(raw), config: cfg, people: [{ id: 'bob', role: 'tech_lead' }], channels: channelsFrom(cfg, { get: async () => 'k' }), publicUrl: 'https://gh.example.com',
    checkpoint: checkpointOf(), onError: (e) => h.errors.push(e),
  });
  await d.start();
  const close = async () => { await d.close(); await raw.close(); };
  cleanups.push(close);
  return { close };
}

describe('notification dispatcher start-up', () => {
  it('a restart rebuilds the records from the notify- streams and reads no approval event from before its checkpoint', async () => {
    h = await engineHarness([deploy], { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const hook = await httpReceiver(() => 200);
    cleanups.push(hook.close);
    const cfg: NotificationsConfig = {
      ...defaultNotificationsConfig, reminders: [], notifyRequester: false, retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 100 }, leaseMs: 20_000,
      channels: { hook: { type: 'webhook', url: hook.url, secret: { $secret: 'K' }, signatureHeader: 'x-sig', timestampHeader: 'x-ts', timeoutMs: 2_000 } },
      rules: [{ name: 'bot', when: {}, channel: 'hook', to: 'eligible' }],
    };
    const gateOf = async (runId: string) => {
      const state = await h.api.startRun({ runId, goal: 'ship', profile: 'technical', steps: [{ id: 's', tool: 'deploy', input: { env: 'production' }, domain: 'ops' }] }, alice);
      const approvalId = state.steps[0]?.gate?.approvalId as string;
      await vi.waitFor(async () => expect((await loadRecord(h.store, approvalId)).deliveries[0]?.status).toBe('DELIVERED'), { timeout: 10_000, interval: 20 });
      await h.api.grantApproval({ approvalId, justification: 'ok' }, bob);
      await h.settled(runId);
    };
    const first = await dispatcher(cfg);
    for (let i = 0; i < N; i++) await gateOf(`old-${i}`);
    await first.close();

    // Where the first dispatcher got to: on a slow machine it may not have reached the last grant
    // before it closed, and reading that grant again is right; reading anything before is not.
    const saved = await checkpointOf().load();
    expect(saved).toBeDefined();
    let tracked: ReturnType<typeof counting> | undefined;
    await dispatcher(cfg, (s) => (tracked = counting(s)).store);
    // A gate after the restart is planned and delivered: the restarted dispatcher works.
    await gateOf('new');
    const read = tracked?.runEvents() ?? [];
    // Its request was read (it was delivered); its grant may still be on the way.
    expect(read.some((e) => e.streamId === 'run-new' && e.type === 'ApprovalRequested')).toBe(true);
    // Of the approval events at or before the checkpoint, only those after the last delivery
    // record are read again (the records' rebuild ends there and the follower resumes from the
    // earlier of the two): at most the last old run's request and grant. Before, all 24 were.
    const old = read.filter((e) => h.store.comparePositions(e.position, saved as NonNullable<typeof saved>) <= 0);
    expect(old.length, old.map((e) => `${e.streamId} ${e.type}`).join(', ')).toBeLessThanOrEqual(2);
  });

  it('without a channel, every start begins at the head: a restart does not read the approvals made before it', async () => {
    h = await engineHarness([deploy], { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const cfg: NotificationsConfig = { ...defaultNotificationsConfig, channels: {}, rules: [] };
    const gateOf = async (runId: string) => {
      const state = await h.api.startRun({ runId, goal: 'ship', profile: 'technical', steps: [{ id: 's', tool: 'deploy', input: { env: 'production' }, domain: 'ops' }] }, alice);
      await h.api.grantApproval({ approvalId: state.steps[0]?.gate?.approvalId as string, justification: 'ok' }, bob);
      await h.settled(runId);
    };
    await gateOf('quiet-before'); // so the first start has a head to begin at
    const first = await dispatcher(cfg);
    expect(await checkpointOf().load()).toBeDefined();
    for (let i = 0; i < 3; i++) await gateOf(`quiet-${i}`);
    // While it runs, the checkpoint follows the approvals it passes over (before, it stayed where
    // the start put it, so a later restart with channels would announce these gates).
    const last = (await h.store.readStream('run-quiet-2')).filter((e) => e.type === 'ApprovalGranted').at(-1);
    await vi.waitFor(async () => expect(await checkpointOf().load()).toEqual(last?.position), { timeout: 10_000, interval: 20 });
    await first.close();
    const head = await h.store.headPosition();
    expect(await checkpointOf().load()).not.toEqual(head);
    const second = await dispatcher(cfg);
    // The restart follows from the head; before, the checkpoint stayed where the first start put
    // it and every restart read all approval events since (millions, on a year-old log).
    expect(await checkpointOf().load()).toEqual(head);
    await second.close();
  });
});
