import { createServer } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createSqliteEventStore } from '../../src/adapters/eventstore/sqlite/sqlite-event-store.js';
import { channelsFrom } from '../../src/adapters/notifiers/channels.js';
import { fileCheckpoint } from '../../src/adapters/notifiers/file-checkpoint.js';
import { defaultApprovalPolicy } from '../../src/domain/approvals/policy-config.js';
import { defaultNotificationsConfig, type NotificationsConfig, type Recipient } from '../../src/domain/notifications/config.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { NotificationDispatcher } from '../../src/orchestrator/notification-dispatcher.js';
import { loadRecord } from '../../src/orchestrator/notification-record.js';
import { planFor } from '../../src/orchestrator/notification-planning.js';
import { sendDue } from '../../src/orchestrator/notification-sender.js';
import { defineTool } from '../../src/orchestrator/tools/tool.js';
import { alice, bob, type EngineHarness, engineHarness } from '../support/engine-harness.js';
import { httpReceiver, type Received } from '../support/receivers.js';

const deploy = defineTool({
  name: 'deploy', description: 'deploy', input: z.object({ env: z.string(), version: z.string() }), domain: 'ops', idempotent: false, timeoutMs: 1_000,
  action: { category: 'deploy', operation: 'release', environment: (i) => (typeof i.env === 'string' ? i.env : undefined) },
  handler: () => ({ ok: true }),
});

const people: Recipient[] = [
  { id: 'alice', role: 'developer', slackChannel: '@alice' },
  { id: 'bob', role: 'tech_lead', email: 'bob@example.com' },
  { id: 'dave', role: 'devops_engineer', slackChannel: '#ops' },
];

// SLACK_BAD is a mistyped URL: fetch's error quotes it whole, so only scrubbing keeps its token out of the log.
const SECRETS: Record<string, string> = { HOOK_KEY: 'whsec-topsecret-1', SLACK_URL: '', SMTP_PASS: 'smtp-pass-topsecret', SLACK_BAD: 'hooks.slack.com/services/T1/B1/slack-bad-token-topsecret' };
const secrets = { get: async (name: string) => SECRETS[name] || undefined };

let h: EngineHarness;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  expect(h.errors).toEqual([]);
  await h.close();
});

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(over: Partial<NotificationsConfig>): NotificationsConfig {
  return { ...defaultNotificationsConfig, retry: { attempts: 8, baseDelayMs: 50, maxDelayMs: 400 }, leaseMs: 20_000, ...over };
}

/** A dispatcher on its own connection to the harness's SQLite file, as another process (or a restart) would have. */
async function dispatcher(cfg: NotificationsConfig, clock?: { now(): Date }, instance = 'one') {
  const store = createSqliteEventStore({ path: h.store.settings().path });
  const errors: unknown[] = [];
  const d = new NotificationDispatcher({
    store, config: cfg, people, channels: channelsFrom(cfg, secrets), publicUrl: 'https://gh.example.com',
    checkpoint: fileCheckpoint(join(h.store.settings().path, '..', `notifications-${instance}.checkpoint`)), clock, onError: (e) => errors.push(e),
  });
  await d.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await d.close();
    await store.close();
  };
  cleanups.push(close);
  return { d, store, errors, close };
}

async function gate(runId: string, env = 'production') {
  const state = await h.api.startRun({ runId, goal: `ship ${runId}`, profile: 'technical', errorStrategy: 'FAIL_FAST', steps: [{ id: 's', tool: 'deploy', input: { env, version: '1.4' }, domain: 'ops' }] }, alice);
  return state.steps[0]!.gate!;
}

const kinds = (got: Received[]) => got.map((r) => (r.body as { idempotencyKey: string }).idempotencyKey.split('/').slice(3).join('/'));
const notifyEvents = async (store: EventStore, approvalId: string) => (await store.readStream(`notify-${approvalId}`)).map((e) => e.type);

describe('notification dispatcher on a SQLite store', () => {
  it('a receiver that is down, then up: retried with backoff and delivered once; a channel that stays down blocks neither the run nor the others; no secret is stored', async () => {
    h = await engineHarness([deploy], { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const port = await freePort();
    const slackPort = await freePort();
    SECRETS.SLACK_URL = `http://127.0.0.1:${slackPort}/services/T000/B000/slack-token-topsecret`;
    const cfg = config({
      channels: {
        hook: { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: { $secret: 'HOOK_KEY' }, signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp', timeoutMs: 2_000 },
        chat: { type: 'slack', webhookUrl: { $secret: 'SLACK_URL' }, timeoutMs: 2_000 },
        typo: { type: 'slack', webhookUrl: { $secret: 'SLACK_BAD' }, timeoutMs: 2_000 },
        mail: { type: 'email', host: '127.0.0.1', port: await freePort(), secure: false, requireTLS: true, allowUnauthorizedTls: true, auth: { user: 'gh', pass: { $secret: 'SMTP_PASS' } }, from: 'gh@example.com', subject: 's', timeoutMs: 2_000 },
      },
      rules: [
        { name: 'bot', when: {}, channel: 'hook', to: 'eligible' },
        { name: 'devops', when: { levels: ['high'] }, channel: 'chat', to: { role: 'devops_engineer' } },
        { name: 'devops-typo', when: { levels: ['high'] }, channel: 'typo', to: { role: 'devops_engineer' } },
        { name: 'leads', when: { levels: ['high'] }, channel: 'mail', to: { role: 'tech_lead' } },
      ],
      reminders: [],
    });
    const disp = await dispatcher(cfg);
    const { store } = disp;
    const g = await gate('down-up');
    // The webhook's receiver is down: attempts fail until it comes up on its port.
    await vi.waitFor(async () => expect((await loadRecord(store, g.approvalId)).deliveries.find((d) => d.channel === 'hook')?.attempts).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 20 });
    const hook = await httpReceiver(() => 200, port);
    cleanups.push(hook.close);
    await vi.waitFor(async () => expect((await loadRecord(store, g.approvalId)).deliveries.find((d) => d.channel === 'hook')?.status).toBe('DELIVERED'), { timeout: 10_000, interval: 20 });
    expect(kinds(hook.got)).toEqual(['requested/hook/hook']);
    // Slack and SMTP stay down; the run goes on regardless.
    await h.api.grantApproval({ approvalId: g.approvalId, justification: 'release train' }, bob);
    expect((await h.settled('down-up')).status).toBe('SUCCEEDED');
    const record = await loadRecord(store, g.approvalId);
    const hookDelivery = record.deliveries.find((d) => d.channel === 'hook');
    expect(hookDelivery?.lastError).toMatch(/ECONNREFUSED/);
    const chat = record.deliveries.find((d) => d.channel === 'chat');
    expect(chat?.status).toMatch(/RETRYING|SENDING/);
    expect(chat?.lastError).toMatch(/ECONNREFUSED/);
    await vi.waitFor(async () => expect((await loadRecord(store, g.approvalId)).deliveries.find((d) => d.channel === 'mail')?.lastError).toBeDefined(), { timeout: 10_000, interval: 20 });
    expect(record.deliveries.find((d) => d.channel === 'typo')?.lastError).toMatch(/^Failed to parse URL from \[secret\]/);
    await disp.close();
    expect(disp.errors).toEqual([]);
    // Nothing on disk holds a secret: not the signing key, not the Slack URL's token, not the SMTP password.
    const dir = join(h.store.settings().path, '..');
    for (const file of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, file)).toString('latin1');
      for (const secret of ['whsec-topsecret-1', 'slack-token-topsecret', 'slack-bad-token-topsecret', 'smtp-pass-topsecret', '/services/T']) expect(bytes, `${file} holds ${secret}`).not.toContain(secret);
    }
  });

  it('reminders are durable: the one due while the dispatcher was down is sent once after it comes back, none after the gate closed; the requester hears the outcome', async () => {
    h = await engineHarness([deploy], { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const hook = await httpReceiver();
    const slack = await httpReceiver();
    cleanups.push(hook.close, slack.close);
    SECRETS.SLACK_URL = slack.url;
    const cfg = config({
      channels: {
        hook: { type: 'webhook', url: hook.url, secret: { $secret: 'HOOK_KEY' }, signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp', timeoutMs: 2_000 },
        chat: { type: 'slack', webhookUrl: { $secret: 'SLACK_URL' }, timeoutMs: 2_000 },
      },
      rules: [{ name: 'bot', when: { levels: ['high'] }, channel: 'hook', to: 'eligible' }],
      reminders: [0.5, 0.9],
    });
    // Real time, moved forward by the test: the dispatcher's timers and its due instants both read it.
    let offset = 0;
    const clock = { now: () => new Date(Date.now() + offset) };
    const first = await dispatcher(cfg, clock);
    const g = await gate('remind');
    const requestedAt = (await h.store.readStream('run-remind')).find((e) => e.type === 'ApprovalRequested')!.recordedAt.getTime();
    await vi.waitFor(() => expect(kinds(hook.got)).toEqual(['requested/hook/hook']), { timeout: 10_000, interval: 20 });
    await first.close();

    // While it is down, the 50 % reminder of the 90 min gate falls due (the 90 % one not yet).
    offset = requestedAt + 50 * 60_000 - Date.now();
    const second = await dispatcher(cfg, clock);
    await vi.waitFor(() => expect(kinds(hook.got)).toEqual(['requested/hook/hook', 'reminder:50/hook/hook']), { timeout: 10_000, interval: 20 });
    expect((hook.got[1]?.body as { kind: string; minutesLeft: number }).kind).toBe('approval_reminder');
    expect((hook.got[1]?.body as { minutesLeft: number }).minutesLeft).toBeOneOf([39, 40]);

    // The gate closes; at 90 % the reminder is skipped, and the requester is told on their Slack channel.
    await h.api.grantApproval({ approvalId: g.approvalId, justification: 'release train' }, bob);
    await h.settled('remind');
    await vi.waitFor(() => expect(slack.got).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(slack.got[0]?.body).toMatchObject({ channel: '@alice', text: 'Your request deploy was approved' });
    offset = requestedAt + 85 * 60_000 - Date.now();
    await second.d.poke();
    await vi.waitFor(async () => expect((await loadRecord(second.store, g.approvalId)).deliveries.map((d) => [d.key, d.status])).toEqual([
      ['requested/hook/hook', 'DELIVERED'], ['reminder:50/hook/hook', 'DELIVERED'], ['reminder:90/hook/hook', 'SKIPPED'], ['outcome/chat/@alice', 'DELIVERED'],
    ]), { timeout: 10_000, interval: 20 });
    expect(kinds(hook.got)).toEqual(['requested/hook/hook', 'reminder:50/hook/hook']);
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
  });

  it('two dispatchers on one store: every message planned once and sent once; an escalation reaches the new roles', async () => {
    const policy = { ...defaultApprovalPolicy, levels: { ...defaultApprovalPolicy.levels, medium: { ...defaultApprovalPolicy.levels.medium, eligibleRoles: ['tech_lead'] } } };
    h = await engineHarness([deploy], { approvalPolicy: policy });
    await h.engine.start();
    const hook = await httpReceiver();
    const slack = await httpReceiver();
    cleanups.push(hook.close, slack.close);
    SECRETS.SLACK_URL = slack.url;
    const cfg = config({
      channels: {
        hook: { type: 'webhook', url: hook.url, secret: { $secret: 'HOOK_KEY' }, signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp', timeoutMs: 2_000 },
        chat: { type: 'slack', webhookUrl: { $secret: 'SLACK_URL' }, timeoutMs: 2_000 },
      },
      rules: [
        { name: 'bot', when: {}, channel: 'hook', to: 'eligible' },
        // Staging deploys are medium: only devops hears, and only once the gate is escalated to them.
        { name: 'devops', when: { roles: ['devops_engineer'] }, channel: 'chat', to: 'eligible' },
      ],
      reminders: [],
    });
    const a2 = await dispatcher(cfg, undefined, 'a');
    const b2 = await dispatcher(cfg, undefined, 'b');
    const gates = [await gate('twin-1', 'staging'), await gate('twin-2', 'staging')];
    await vi.waitFor(() => expect(hook.got).toHaveLength(2), { timeout: 10_000, interval: 20 });
    expect(slack.got).toEqual([]);
    await h.api.escalateApproval({ approvalId: gates[0]!.approvalId, toRoles: ['devops_engineer'], reason: 'needs ops' }, bob);
    await vi.waitFor(() => expect(slack.got).toHaveLength(1), { timeout: 10_000, interval: 20 });
    await vi.waitFor(() => expect(hook.got).toHaveLength(3), { timeout: 10_000, interval: 20 });
    expect((hook.got[2]?.body as { kind: string; to: string[] })).toMatchObject({ kind: 'approval_escalated', to: ['dave'] });
    expect(slack.got[0]?.body).toMatchObject({ channel: '#ops', text: 'Escalated to devops_engineer: deploy (medium risk) for alice' });
    await h.api.denyApproval({ approvalId: gates[1]!.approvalId, justification: 'not now' }, bob);
    await vi.waitFor(() => expect(slack.got).toHaveLength(2), { timeout: 10_000, interval: 20 });
    expect(slack.got[1]?.body).toMatchObject({ channel: '@alice', text: 'Your request deploy was denied' });
    await a2.d.poke();
    await b2.d.poke();
    // Each message once, although both dispatchers planned and tried everything.
    const slackKey = (r: Received) => /· id (\S+)$/.exec((r.body as { blocks: Array<{ elements?: Array<{ text: string }> }> }).blocks.at(-1)?.elements?.[0]?.text ?? '')?.[1];
    const keys = [...hook.got.map((r) => (r.body as { idempotencyKey: string }).idempotencyKey), ...slack.got.map(slackKey)];
    expect(keys.sort()).toEqual([...new Set(keys)].sort());
    expect(keys).toHaveLength(5);
    // The record settles: every claimed attempt is answered (a receiver may have its message a moment
    // before the sender appends Delivered), and the five messages received are five Delivered.
    await vi.waitFor(async () => {
      let delivered = 0;
      for (const g of gates) {
        const types = await notifyEvents(a2.store, g.approvalId);
        const answered = types.filter((t) => t === 'Delivered' || t === 'DeliveryAttemptFailed').length;
        expect(answered).toBe(types.filter((t) => t === 'DeliveryAttempted').length);
        delivered += types.filter((t) => t === 'Delivered').length;
      }
      expect(delivered).toBe(5);
    }, { timeout: 10_000, interval: 50 });
    for (const g of gates) expect((await notifyEvents(a2.store, g.approvalId)).filter((t) => t === 'DeliveriesPlanned').length).toBeLessThanOrEqual(3);
    expect([...a2.errors, ...b2.errors].map(String)).toEqual([]);
  });

  it('an attempt is claimed by an append at the expected revision: two senders racing for one delivery send it once', async () => {
    h = await engineHarness([deploy], { approvalPolicy: defaultApprovalPolicy });
    await h.engine.start();
    const hook = await httpReceiver();
    cleanups.push(hook.close);
    const cfg = config({
      channels: { hook: { type: 'webhook', url: hook.url, secret: { $secret: 'HOOK_KEY' }, signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp', timeoutMs: 2_000 } },
      rules: [{ name: 'bot', when: {}, channel: 'hook', to: 'eligible' }],
      reminders: [],
    });
    const g = await gate('race');
    const requested = (await h.store.readStream('run-race')).find((e) => e.type === 'ApprovalRequested')!;
    await planFor({ store: h.store, config: cfg, people, actor: 'system:test' }, requested);
    await planFor({ store: h.store, config: cfg, people, actor: 'system:test' }, requested); // planned once, whoever plans again
    const stores = [createSqliteEventStore({ path: h.store.settings().path }), createSqliteEventStore({ path: h.store.settings().path })];
    cleanups.push(async () => { for (const s of stores) await s.close(); });
    const reported: unknown[] = [];
    const ctx = (store: EventStore) => ({ store, clock: { now: () => new Date() }, config: cfg, channels: channelsFrom(cfg, secrets), publicUrl: 'https://gh.example.com', actor: 'system:test', report: (e: unknown) => reported.push(e) });
    const launched = await Promise.all(stores.map((s) => sendDue(ctx(s), g.approvalId)));
    await Promise.all(launched.flat());
    expect(launched.flat()).toHaveLength(1);
    expect(kinds(hook.got)).toEqual(['requested/hook/hook']);
    expect(await notifyEvents(h.store, g.approvalId)).toEqual(['DeliveriesPlanned', 'DeliveryAttempted', 'Delivered']);
    expect(reported).toEqual([]);
  });
});
