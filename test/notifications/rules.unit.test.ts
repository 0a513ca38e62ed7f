import { describe, expect, it } from 'vitest';
import { type GateFacts, planDeliveries, reminderTimes, triggersFor } from '../../src/domain/notifications/addressing.js';
import { defaultNotificationsConfig, type NotificationsConfig, type Recipient } from '../../src/domain/notifications/config.js';
import type { Trigger } from '../../src/domain/notifications/events.js';
import { approvalLink, composeMessage, renderSubject } from '../../src/domain/notifications/message.js';
import { dueDeliveries, foldRecord, nextDueAt, retryDelayMs, scrubError } from '../../src/domain/notifications/record.js';
import { ConfigError, parseConfig } from '../../src/orchestrator/config.js';

const people: Recipient[] = [
  { id: 'alice', role: 'developer', email: 'alice@example.com', slackChannel: '@alice' },
  { id: 'bob', role: 'tech_lead', email: 'bob@example.com', slackChannel: '@bob' },
  { id: 'tina', role: 'tech_lead', email: 'tina@example.com' },
  { id: 'dave', role: 'devops_engineer', slackChannel: '#ops' },
  { id: 'erin', role: 'devops_engineer' },
  { id: 'ann', role: 'admin', email: 'ann@example.com' },
];

const config: NotificationsConfig = {
  ...defaultNotificationsConfig,
  channels: {
    mail: { type: 'email', host: 'smtp.example.com', port: 587, secure: false, requireTLS: true, allowUnauthorizedTls: false, from: 'gatehouse@example.com', subject: '{{title}}', timeoutMs: 5_000 },
    chat: { type: 'slack', webhookUrl: 'https://hooks.slack.com/services/T/B/x', timeoutMs: 5_000 },
    hook: { type: 'webhook', url: 'https://hooks.example.com/gh', secret: { $secret: 'HOOK' }, signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp', timeoutMs: 5_000 },
  },
  rules: [
    { name: 'leads-by-email', when: { levels: ['high', 'critical'] }, channel: 'mail', to: { role: 'tech_lead' } },
    { name: 'devops-on-slack', when: { levels: ['high', 'critical'] }, channel: 'chat', to: { role: 'devops_engineer' } },
    { name: 'db-to-the-bot', when: { tools: ['db.*'] }, channel: 'hook', to: 'eligible' },
    { name: 'payments-to-ann', when: { profiles: ['payments'] }, channel: 'mail', to: { principals: ['ann'] } },
    { name: 'devops-gates-eligible', when: { roles: ['devops_engineer'] }, channel: 'mail', to: 'eligible' },
  ],
};

const gate = (over: Partial<GateFacts> = {}): GateFacts => ({
  approvalId: 'r1/s1/1', tool: 'deploy.release', level: 'high', eligibleRoles: ['tech_lead'], profile: 'enterprise', requesterId: 'alice',
  requestedAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-01T11:30:00.000Z', ...over,
});

describe('addressing: who gets what', () => {
  it.each<[string, Trigger, Partial<GateFacts>, string[]]>([
    ['a high request: leads by email, devops by Slack (one message per Slack channel)', { kind: 'requested' }, {},
      ['mail:bob@example.com', 'mail:tina@example.com', 'chat:#ops', 'chat:default']],
    ['a medium request matches no level rule', { kind: 'requested' }, { level: 'medium' }, []],
    ['a db tool: the webhook hears it, addressed to the eligible (never the requester)', { kind: 'requested' }, { level: 'low', tool: 'db.execute', eligibleRoles: ['developer', 'tech_lead'] },
      ['hook:hook']],
    ['a payments profile: the named principal', { kind: 'requested' }, { level: 'low', profile: 'payments' }, ['mail:ann@example.com']],
    ['a gate devops may decide: everyone eligible with an email', { kind: 'requested' }, { level: 'low', eligibleRoles: ['devops_engineer'] }, []],
    ['an escalation to devops: the new roles are matched and addressed', { kind: 'escalated', toRoles: ['devops_engineer'] }, { level: 'medium' }, []],
    ['a reminder follows the same rules as the request', { kind: 'reminder', share: 0.5 }, { level: 'critical' },
      ['mail:bob@example.com', 'mail:tina@example.com', 'chat:#ops', 'chat:default']],
    ['the outcome goes to the requester only, on their email', { kind: 'outcome', outcome: 'denied' }, {}, ['mail:alice@example.com']],
  ])('%s', (_name, trigger, over, expected) => {
    const planned = planDeliveries(trigger, gate(over), config, people, '2026-01-01T10:00:00.000Z');
    expect(planned.map((d) => `${d.channel}:${d.to}`).sort()).toEqual([...expected].sort());
  });

  it('an escalation to devops reaches the devops people eligible (a rule on their role)', () => {
    const cfg = { ...config, rules: [{ name: 'esc', when: { roles: ['devops_engineer'] }, channel: 'chat', to: 'eligible' as const }] };
    expect(planDeliveries({ kind: 'requested' }, gate(), cfg, people, 'x')).toEqual([]);
    const planned = planDeliveries({ kind: 'escalated', toRoles: ['devops_engineer'] }, gate(), cfg, people, 'x');
    expect(planned.map((d) => [d.to, d.principals])).toEqual([['#ops', ['dave']], ['default', ['erin']]]);
    expect(planned[0]?.key).toBe('escalated:devops_engineer/chat/#ops');
  });

  it('the requester without an email hears the outcome on Slack; nobody when notifyRequester is off', () => {
    const slackOnly = people.map((p) => (p.id === 'alice' ? { id: 'alice', role: 'developer', slackChannel: '@alice' } : p));
    expect(planDeliveries({ kind: 'outcome', outcome: 'granted' }, gate(), config, slackOnly, 'x').map((d) => `${d.channel}:${d.to}`)).toEqual(['chat:@alice']);
    expect(planDeliveries({ kind: 'outcome', outcome: 'granted' }, gate(), { ...config, notifyRequester: false }, people, 'x')).toEqual([]);
  });

  it('a person two rules address on one address gets one message', () => {
    const cfg = { ...config, rules: [config.rules[0]!, { ...config.rules[0]!, name: 'again', to: { principals: ['bob'] } }] };
    const planned = planDeliveries({ kind: 'requested' }, gate(), cfg, people, 'x');
    expect(planned.filter((d) => d.to === 'bob@example.com')).toHaveLength(1);
  });
});

describe('triggers and reminders', () => {
  it('reminders fall at their shares of the timeout (default 50 % and 90 %)', () => {
    expect(reminderTimes('2026-01-01T10:00:00.000Z', '2026-01-01T11:30:00.000Z', defaultNotificationsConfig.reminders)).toEqual([
      { share: 0.5, at: '2026-01-01T10:45:00.000Z' }, { share: 0.9, at: '2026-01-01T11:21:00.000Z' },
    ]);
  });

  it.each<[string, Parameters<typeof triggersFor>[0], string[]]>([
    ['a request: the request and its reminders', { type: 'ApprovalRequested', automatedApprovers: [], expiresAt: '2026-01-01T11:30:00.000Z' }, ['requested', 'reminder', 'reminder']],
    ['a request an automated approver sees first: only the reminders', { type: 'ApprovalRequested', automatedApprovers: ['bot'], expiresAt: '2026-01-01T11:30:00.000Z' }, ['reminder', 'reminder']],
    ['its hand-over: the request, now', { type: 'ApprovalEscalated', byAutomated: true, toRoles: ['tech_lead'] }, ['requested']],
    ['a human escalation', { type: 'ApprovalEscalated', byAutomated: false, toRoles: ['devops_engineer'] }, ['escalated']],
    ['a vote that does not complete the quorum', { type: 'ApprovalGranted', gateGranted: false }, []],
    ['the grant', { type: 'ApprovalGranted', gateGranted: true }, ['outcome']],
    ['a denial', { type: 'ApprovalDenied' }, ['outcome']],
    ['an expiry', { type: 'ApprovalExpired', outcome: 'denied' }, ['outcome']],
    ['a cancellation', { type: 'ApprovalCancelled' }, []],
    ['an automated approval', { type: 'ApprovalAutoApproved' }, []],
  ])('%s', (_n, event, kinds) => {
    expect(triggersFor(event, '2026-01-01T10:00:00.000Z', [0.5, 0.9]).map((t) => t.trigger.kind)).toEqual(kinds);
  });
});

describe('delivery record', () => {
  const planned = { type: 'DeliveriesPlanned' as const, data: { approvalId: 'a', runId: 'r', source: 'e1', deliveries: [
    { key: 'requested/mail/bob', channel: 'mail', channelType: 'email' as const, to: 'bob', principals: ['bob'], rule: 'x', trigger: { kind: 'requested' as const }, notBefore: '2026-01-01T10:00:00.000Z' },
    { key: 'reminder:50/mail/bob', channel: 'mail', channelType: 'email' as const, to: 'bob', principals: ['bob'], rule: 'x', trigger: { kind: 'reminder' as const, share: 0.5 }, notBefore: '2026-01-01T10:45:00.000Z' },
  ] } };

  it('what is due: planned ones at their time, a claim only after its lease, a retry at its retryAt', () => {
    const at = (iso: string) => new Date(iso);
    let r = foldRecord([planned]);
    expect(dueDeliveries(r, at('2026-01-01T10:00:00.000Z')).map((d) => d.key)).toEqual(['requested/mail/bob']);
    r = foldRecord([planned, { type: 'DeliveryAttempted', data: { key: 'requested/mail/bob', channel: 'mail', attempt: 1, at: '2026-01-01T10:00:00.000Z', leaseUntil: '2026-01-01T10:01:00.000Z' } }]);
    expect(dueDeliveries(r, at('2026-01-01T10:00:30.000Z'))).toEqual([]);
    expect(dueDeliveries(r, at('2026-01-01T10:01:00.000Z')).map((d) => [d.key, d.status, d.attempts])).toEqual([['requested/mail/bob', 'SENDING', 1]]);
    r = foldRecord([...[planned], { type: 'DeliveryAttemptFailed', data: { key: 'requested/mail/bob', channel: 'mail', attempt: 1, at: 'x', error: 'down', retryAt: '2026-01-01T10:00:02.000Z' } }]);
    expect(r.deliveries[0]).toMatchObject({ status: 'RETRYING', lastError: 'down', dueAt: '2026-01-01T10:00:02.000Z' });
    expect(nextDueAt(r)).toBe(Date.parse('2026-01-01T10:00:02.000Z'));
    r = foldRecord([planned, { type: 'Delivered', data: { key: 'requested/mail/bob', channel: 'mail', attempt: 1, at: 'x' } }, { type: 'DeliverySkipped', data: { key: 'reminder:50/mail/bob', channel: 'mail', at: 'y', reason: 'closed' } }]);
    expect(r.deliveries.map((d) => d.status)).toEqual(['DELIVERED', 'SKIPPED']);
    expect(nextDueAt(r)).toBeUndefined();
  });

  it('backoff doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 10].map((a) => retryDelayMs(a, { baseDelayMs: 1_000, maxDelayMs: 5_000 }))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('a stored error keeps no secret, no URL path or query, no user info', () => {
    const text = scrubError('POST https://hooks.slack.com/services/T0/B0/XyZ?token=abc failed; smtp://user:hunter22@mail.example.com:587/x said hunter22 is wrong', ['hunter22']);
    expect(text).not.toMatch(/XyZ|token=abc|hunter22|user:/);
    expect(text).toContain('https://hooks.slack.com/[…]');
    expect(text).toContain('smtp://mail.example.com:587/[…]');
  });
});

describe('messages', () => {
  it('link to the console card under the public URL, and fill the subject template on one line', () => {
    expect(approvalLink('https://gh.example.com/', 'r1/s1/1')).toBe('https://gh.example.com/approvals/r1%2Fs1%2F1');
    const m = composeMessage({ kind: 'reminder', share: 0.9 }, {
      approvalId: 'r1/s1/1', runId: 'r1', tool: 'deploy.release', risk: { level: 'high', score: 70, factors: ['production'] }, requester: 'alice',
      goal: 'ship\n1.4', expiresAt: '2026-01-01T11:30:00.000Z', received: 0, required: 1, eligibleRoles: ['tech_lead'],
    }, 'reminder:90/mail/bob', ['bob'], 'http://localhost:4000', new Date('2026-01-01T11:21:00.000Z'));
    expect(m).toMatchObject({ kind: 'approval_reminder', minutesLeft: 9, idempotencyKey: 'r1/s1/1/reminder:90/mail/bob', link: 'http://localhost:4000/approvals/r1%2Fs1%2F1' });
    expect(renderSubject('[GH] {{kind}} {{tool}} {{risk}} {{goal}} {{nope}}', m)).toBe('[GH] reminder deploy.release high ship 1.4 {{nope}}');
  });
});

describe('notification config errors are refused at start', () => {
  const tokens = [{ id: 'bob', role: 'tech_lead', token: 'bob-token-000000000001' }];
  it.each<[string, unknown, RegExp]>([
    ['a rule naming a channel that is not configured', { rules: [{ name: 'r', channel: 'mail' }] }, /notifications\.rules\.0\.channel: rule r: no channel "mail"/],
    ['an unknown role', { channels: { hook: { type: 'webhook', url: 'https://x.example.com', secret: { $secret: 'K' } } }, rules: [{ name: 'r', channel: 'hook', to: { role: 'devops' } }] }, /unknown role "devops"/],
    ['an unknown role in when', { channels: { hook: { type: 'webhook', url: 'https://x.example.com', secret: { $secret: 'K' } } }, rules: [{ name: 'r', channel: 'hook', when: { roles: ['lead'] } }] }, /when\.roles\.0: rule r: unknown role "lead"/],
    ['an unknown principal', { channels: { hook: { type: 'webhook', url: 'https://x.example.com', secret: { $secret: 'K' } } }, rules: [{ name: 'r', channel: 'hook', to: { principals: ['zed'] } }] }, /unknown principal "zed"/],
    ['a principal without an email on an email rule', { channels: { mail: { type: 'email', host: 'h', from: 'gh@example.com' } }, rules: [{ name: 'r', channel: 'mail', to: { principals: ['bob'] } }] }, /principal "bob" has no email/],
    ['an email channel without its host', { channels: { mail: { type: 'email', from: 'gh@example.com' } } }, /notifications\.channels\.mail\.host/],
    ['a webhook channel without its secret', { channels: { hook: { type: 'webhook', url: 'https://x.example.com' } } }, /notifications\.channels\.hook\.secret/],
    ['a send timeout over the lease', { channels: { hook: { type: 'webhook', url: 'https://x.example.com', secret: { $secret: 'K' }, timeoutMs: 90_000 } } }, /timeoutMs \(90000\) must be below notifications\.leaseMs/],
  ])('%s', (_n, notifications, message) => {
    const parse = () => parseConfig({ notifications, auth: { tokens } }, 'gatehouse.yaml');
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
  });

  it('people carry their email and Slack channel in auth.tokens', () => {
    const config = parseConfig({ auth: { tokens: [{ ...tokens[0], email: 'bob@example.com', slackChannel: '@bob' }] } });
    expect(config.auth.tokens[0]).toMatchObject({ email: 'bob@example.com', slackChannel: '@bob' });
    expect(() => parseConfig({ auth: { tokens: [{ ...tokens[0], email: 'not-an-email' }] } })).toThrow(/auth\.tokens\.0\.email/);
  });
});

describe('the README example', () => {
  it('is a valid gatehouse.yaml that tells tech leads by email and devops by Slack about high and critical requests, with reminders', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Notifications'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const config = parseConfig(parse(yaml), 'README');
    const people = config.auth.tokens.map((t) => ({ id: t.id, role: t.role, email: t.email, slackChannel: t.slackChannel }));
    const facts = gate({ level: 'critical', eligibleRoles: ['devops_engineer'] });
    expect(planDeliveries({ kind: 'requested' }, gate(), config.notifications, people, 'x').map((d) => `${d.channel}:${d.to}`).sort())
      .toEqual(['chat:#ops-approvals', 'mail:bob@example.com', 'mail:tina@example.com']);
    expect(planDeliveries({ kind: 'reminder', share: 0.9 }, facts, config.notifications, people, 'x').map((d) => `${d.channel}:${d.to}`).sort())
      .toEqual(['chat:#ops-approvals', 'mail:bob@example.com', 'mail:tina@example.com']);
    expect(config.notifications.reminders).toEqual([0.5, 0.9]);
  });
});
