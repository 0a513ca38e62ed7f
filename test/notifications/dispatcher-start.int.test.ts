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
  let runEvents = 0;
  const seen = (e: RecordedEvent) => { if (e.streamId.startsWith('run-')) runEvents++; };
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

async function dispatcher(cfg: NotificationsConfig, wrap: (s: EventStore) => EventStore = (s) => s) {
  const raw = createSqliteEventStore({ path: h.store.settings().path });
  const d = new NotificationDispatcher({
    store: wrap(raw), config: cfg, people: [{ id: 'bob', role: 'tech_lead' }], channels: channelsFrom(cfg, { get: async () => 'k' }), publicUrl: 'https://gh.example.com',
    checkpoint: fileCheckpoint(join(h.store.settings().path, '..', 'notifications.checkpoint')), onError: (e) => h.errors.push(e),
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

    let tracked: ReturnType<typeof counting> | undefined;
    await dispatcher(cfg, (s) => (tracked = counting(s)).store);
    // A gate after the restart is planned and delivered: the restarted dispatcher works.
    await gateOf('new');
    // Only the new run's approval events (its request and grant) are read; before, every approval in history was.
    expect(tracked?.runEvents()).toBeLessThanOrEqual(2);
  });
});
