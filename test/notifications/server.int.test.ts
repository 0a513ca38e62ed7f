import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ServerHarness, startServer } from '../support/server-harness.js';
import { httpReceiver } from '../support/receivers.js';
import { tempDir } from '../support/temp.js';

const ALICE = 'alice-token-0000000001';
const BOB = 'bob-token-000000000001';
const VERA = 'viewer-token-0000000001';

let s: ServerHarness | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await s?.close();
  s = undefined;
  for (const c of cleanups.splice(0)) await c();
});

/** Retries an async check until it passes (waits on a condition, not a sleep): vitest's waitFor. */
const eventually = <T>(check: () => Promise<T>, ms = 10_000): Promise<T> => vi.waitFor(check, { timeout: ms, interval: 20 });

describe('notifications in the packaged server', () => {
  it('links under GATEHOUSE_PUBLIC_URL, the record in approval.notifications, and /metrics by channel and outcome', async () => {
    // The receiver refuses the first request: one retry, then delivered.
    const hook = await httpReceiver((_r, n) => (n === 1 ? 503 : 200));
    cleanups.push(hook.close);
    const tmp = tempDir('gatehouse-notify-');
    cleanups.push(tmp.remove);
    process.env.GATEHOUSE_SECRET_N1_HOOK_KEY = 'whsec-server-test-1';
    cleanups.push(() => { delete process.env.GATEHOUSE_SECRET_N1_HOOK_KEY; });
    const yaml = join(tmp.dir, 'gatehouse.yaml');
    writeFileSync(yaml, `
auth:
  tokens:
    - { id: vera, role: viewer, token: ${VERA} }
    - { id: alice, role: developer, token: ${ALICE}, slackChannel: "@alice" }
    - { id: bob, role: tech_lead, token: ${BOB}, email: bob@example.com }
notifications:
  channels:
    ops-hook: { type: webhook, url: "${hook.url}", secret: { $secret: N1_HOOK_KEY } }
  rules:
    - { name: high-to-hook, when: { levels: [high, critical] }, channel: ops-hook, to: eligible }
  retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 100 }
`);
    s = await startServer({ env: { configPath: yaml, publicUrl: 'https://gatehouse.example.com' } });
    const started = await s.gql<{ startRun: { steps: Array<{ approvalId: string }> } }>(ALICE, 'mutation($i: StartRunInput!) { startRun(input: $i) { steps { approvalId } } }', {
      i: { goal: 'ship 1.4', profile: 'enterprise', steps: [{ id: 'ship', tool: 'deploy.release', domain: 'deploys', input: { environment: 'production', version: '1.4' } }] },
    });
    expect(started.body.errors).toBeUndefined();
    const approvalId = started.body.data!.startRun.steps[0]!.approvalId;
    await eventually(async () => expect(hook.got).toHaveLength(1));
    expect(hook.got[0]?.body).toMatchObject({ kind: 'approval_requested', approvalId, link: `https://gatehouse.example.com/approvals/${encodeURIComponent(approvalId)}`, to: ['bob'], requester: 'alice' });

    const Q = 'query($id: ID!) { approval(approvalId: $id) { notifications { channel to trigger status attempts lastError at } } }';
    await eventually(async () => {
      const r = await s!.gql<{ approval: { notifications: unknown[] } }>(BOB, Q, { id: approvalId });
      expect(r.body.data?.approval.notifications).toEqual([
        { channel: 'ops-hook', to: 'ops-hook', trigger: 'requested', status: 'DELIVERED', attempts: 2, lastError: 'the webhook answered 503', at: expect.any(String) },
        // The reminders at 50 % and 90 % of the 90 min timeout wait in the record, due at their time.
        { channel: 'ops-hook', to: 'ops-hook', trigger: 'reminder', status: 'PLANNED', attempts: 0, lastError: null, at: expect.any(String) },
        { channel: 'ops-hook', to: 'ops-hook', trigger: 'reminder', status: 'PLANNED', attempts: 0, lastError: null, at: expect.any(String) },
      ]);
    });
    // Addresses are people's: a viewer sees the approval, not its notifications.
    const viewer = await s.gql(VERA, Q, { id: approvalId });
    expect(viewer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');

    const metrics = async () => (await fetch(s!.url.replace('/graphql', '/metrics'))).text();
    await eventually(async () => {
      const text = await metrics();
      expect(text).toMatch(/gatehouse_notifications_total\{channel="ops-hook",outcome="retried"\} 1/);
      expect(text).toMatch(/gatehouse_notifications_total\{channel="ops-hook",outcome="delivered"\} 1/);
    });
    const health = await (await fetch(s.url.replace('/graphql', '/healthz'))).json() as { followers: Array<{ name: string; state: string }> };
    expect(health.followers).toContainEqual({ name: 'notifications', state: 'live', resubscriptions: 0 });
  });

  it('a rule naming an unknown principal stops the start with a clear message', async () => {
    const tmp = tempDir('gatehouse-notify-');
    cleanups.push(tmp.remove);
    const yaml = join(tmp.dir, 'gatehouse.yaml');
    writeFileSync(yaml, `
notifications:
  channels:
    chat: { type: slack, webhookUrl: "https://hooks.slack.com/services/T/B/x" }
  rules:
    - { name: leads, channel: chat, to: { principals: [zed] } }
`);
    await expect(startServer({ env: { configPath: yaml } })).rejects.toThrow(/notifications\.rules\.0\.to\.principals\.0: rule leads: unknown principal "zed"/);
  });
});
