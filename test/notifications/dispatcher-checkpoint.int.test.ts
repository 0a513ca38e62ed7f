import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { defaultNotificationsConfig } from '../../src/domain/notifications/config.js';
import type { EventStore, Position, RecordedEvent, Subscription } from '../../src/domain/ports/event-store.js';
import { NotificationDispatcher, type NotificationCheckpoint } from '../../src/orchestrator/notification-dispatcher.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { carol, type EngineHarness, engineHarness } from '../support/engine-harness.js';

const deploy = defineTool({
  name: 'deploy', description: 'deploy', input: z.object({ env: z.string() }), domain: 'ops', idempotent: false, timeoutMs: 1_000,
  action: { category: 'deploy', operation: 'release', environment: (i) => (typeof i.env === 'string' ? i.env : undefined) },
  handler: () => ({ ok: true }),
});

let h: EngineHarness;
afterEach(async () => {
  expect(h.errors).toEqual([]);
  await h.close();
});

/** A checkpoint whose saves wait until the test lets them finish; it records what was asked. */
function heldCheckpoint() {
  const saves: Position[] = [];
  let stored: Position | undefined;
  let release: () => void = () => {};
  let held = new Promise<void>((r) => (release = r));
  let running = 0;
  let overlapped = false;
  const checkpoint: NotificationCheckpoint = {
    load: async () => stored,
    save: async (position) => {
      saves.push(position);
      if (++running > 1) overlapped = true;
      await held;
      stored = position;
      running--;
    },
  };
  return {
    checkpoint, saves, stored: () => stored, overlapped: () => overlapped,
    open: () => { release(); held = Promise.resolve(); },
  };
}

/** The store, with the events its subscriptions have handed out. */
function watched(store: EventStore) {
  const handed: RecordedEvent[] = [];
  const wrapped = Object.create(store) as EventStore;
  wrapped.subscribeToAll = (...args) => {
    const sub = store.subscribeToAll(...args);
    const next = async () => { const r = await sub.next(); if (!r.done) handed.push(r.value); return r; };
    const counted: Subscription = { next, close: () => sub.close(), return: async () => { await sub.close(); return { done: true, value: undefined }; }, [Symbol.asyncIterator]: () => counted };
    return counted;
  };
  return { store: wrapped, handed };
}

/**
 * An engine with one gated run already in the log (so a first start has a head to begin at), a
 * held checkpoint opened for the start's own save, and a dispatcher on its own connection to the
 * file, started: what every test below begins with.
 */
async function startedDispatcher(onError: (e: unknown) => void = (e) => h.errors.push(e)) {
  h = await engineHarness([deploy], { approvalPolicy: defaultApprovalPolicy });
  await h.engine.start();
  const gate = (runId: string) => h.api.startRun({ runId, goal: 'ship', profile: 'technical', steps: [{ id: 's', tool: 'deploy', input: { env: 'production' }, domain: 'ops' }] }, carol);
  await gate('before');
  const cp = heldCheckpoint();
  cp.open();
  const raw = createSqliteEventStore({ path: h.store.settings().path });
  const w = watched(raw);
  const d = new NotificationDispatcher({ store: w.store, config: { ...defaultNotificationsConfig, channels: {}, rules: [] }, people: [], channels: {}, publicUrl: 'https://gh.example.com', checkpoint: cp.checkpoint, onError });
  await d.start();
  /** The position of the last ApprovalRequested of a run. */
  const lastRequest = async (runId: string) => (await h.store.readStream(`run-${runId}`)).filter((e) => e.type === 'ApprovalRequested').at(-1)?.position;
  const close = async () => { await d.close(); await raw.close(); };
  return { gate, cp, handed: w.handed, lastRequest, close };
}

describe('notification dispatcher checkpoint', () => {
  it('writes the newest position behind the events: one save at a time, the positions passed meanwhile are not each written', async () => {
    const { gate, cp, handed, lastRequest, close } = await startedDispatcher();
    const started = cp.saves.length;
    // Saves from here on wait: a file write that takes long (a slow disk, a loaded machine).
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));
    cp.checkpoint.save = ((save) => async (p: Position) => { await slow; return save(p); })(cp.checkpoint.save.bind(cp.checkpoint));
    for (let i = 0; i < 8; i++) await gate(`g-${i}`);
    const last = await lastRequest('g-7');
    // The follower passes all eight requests while the first save waits (before, it waited with it).
    await vi.waitFor(() => expect(handed.some((e) => e.position === last)).toBe(true), { timeout: 10_000, interval: 10 });
    release();
    await vi.waitFor(() => expect(cp.stored()).toEqual(last), { timeout: 10_000, interval: 10 });
    // Before: one save per approval event, each awaited before the next event (eight saves).
    expect(cp.saves.length - started).toBeLessThanOrEqual(2);
    expect(cp.overlapped()).toBe(false);
    await close();
  });

  it('close() waits for the newest position to be saved', async () => {
    const { gate, cp, lastRequest, close } = await startedDispatcher();
    await gate('g');
    const last = await lastRequest('g');
    await vi.waitFor(() => expect(cp.saves.at(-1)).toEqual(last), { timeout: 10_000, interval: 10 });
    await close();
    expect(cp.stored()).toEqual(last);
  });

  it('a failed save is reported, and the next event writes the newer position', async () => {
    const reported: unknown[] = [];
    const { gate, cp, lastRequest, close } = await startedDispatcher((e: unknown) => reported.push(e));
    const save = cp.checkpoint.save.bind(cp.checkpoint);
    let fail = true;
    cp.checkpoint.save = async (p) => {
      if (fail) { fail = false; throw new Error('disk full'); }
      return save(p);
    };
    await gate('g-0');
    await vi.waitFor(() => expect(reported.map((e) => (e as Error).message)).toEqual(['disk full']), { timeout: 10_000, interval: 10 });
    await gate('g-1');
    const last = await lastRequest('g-1');
    await vi.waitFor(() => expect(cp.stored()).toEqual(last), { timeout: 10_000, interval: 10 });
    await close();
  });

  it('a burst of approval events on a quick disk is one save and one more a second later, not a save per event', async () => {
    const { gate, cp, lastRequest, close } = await startedDispatcher();
    const started = cp.saves.length;
    for (let i = 0; i < 8; i++) await gate(`b-${i}`);
    const last = await lastRequest('b-7');
    // The newest position is written by the timer even though no event follows it.
    await vi.waitFor(() => expect(cp.stored()).toEqual(last), { timeout: 10_000, interval: 10 });
    // Before: a save per approval event (eight). Now the first, then the newest; on a machine so
    // slow that the burst spans seconds, one more per second.
    expect(cp.saves.length - started).toBeLessThan(8);
    await close();
  });
});
