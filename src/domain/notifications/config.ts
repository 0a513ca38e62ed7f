import { z } from 'zod';
import { RiskLevel } from '../events/common.js';

/** `{ $secret: NAME }`: looked up when a message is sent (GATEHOUSE_SECRET_<NAME>), never written in the file or the log. */
export const NotifySecretRef = z.strictObject({ $secret: z.string().min(1).max(200) });

const HeaderName = z.string().regex(/^[A-Za-z0-9-]+$/);
const timeoutMs = z.number().int().positive().max(120_000).default(10_000);

/** A signed generic webhook: JSON body, `v1=` HMAC-SHA256 over `<timestamp>.<body>` (the webhook approver's scheme). */
export const WebhookChannelConfig = z.strictObject({
  type: z.literal('webhook'),
  url: z.url(),
  secret: NotifySecretRef,
  signatureHeader: HeaderName.default('x-gatehouse-signature'),
  timestampHeader: HeaderName.default('x-gatehouse-timestamp'),
  timeoutMs,
});

/** A Slack incoming webhook (its URL holds a token, so it may be a `$secret`). */
export const SlackChannelConfig = z.strictObject({
  type: z.literal('slack'),
  webhookUrl: z.union([z.url(), NotifySecretRef]),
  timeoutMs,
});

/** Email over SMTP. `requireTLS` refuses to send unless STARTTLS succeeds; `secure` is TLS from the first byte (port 465). */
export const EmailChannelConfig = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(587),
  secure: z.boolean().default(false),
  requireTLS: z.boolean().default(true),
  /** Accept a self-signed certificate (tests, a relay on localhost). */
  allowUnauthorizedTls: z.boolean().default(false),
  auth: z.strictObject({ user: z.string().min(1), pass: NotifySecretRef }).optional(),
  from: z.string().min(3),
  /** `{{kind}}`, `{{tool}}`, `{{risk}}`, `{{requester}}`, `{{approvalId}}`, `{{goal}}` are replaced. */
  subject: z.string().min(1).max(300).default('[Gatehouse] {{kind}}: {{tool}} ({{risk}} risk) requested by {{requester}}'),
  timeoutMs,
});

/** One named channel. */
export const ChannelConfig = z.discriminatedUnion('type', [WebhookChannelConfig, SlackChannelConfig, EmailChannelConfig]);
export type ChannelConfig = z.infer<typeof ChannelConfig>;
/** The kinds of channel. */
export type ChannelType = ChannelConfig['type'];

/** Who a rule addresses: everyone eligible to decide, everyone holding a role, or named principals. */
export const Audience = z.union([
  z.literal('eligible'),
  z.strictObject({ role: z.string().min(1) }),
  z.strictObject({ principals: z.array(z.string().min(1)).min(1) }),
]);
export type Audience = z.infer<typeof Audience>;

/** An addressing rule: every condition given must hold (a list matches when any of its values does). */
export const NotificationRule = z.strictObject({
  name: z.string().min(1).max(100),
  when: z
    .strictObject({
      levels: z.array(RiskLevel).optional(),
      /** Matches when one of the gate's eligible roles (after an escalation: the roles it went to) is listed. */
      roles: z.array(z.string().min(1)).optional(),
      /** Tool-name patterns (`*` matches any run of characters). */
      tools: z.array(z.string().min(1)).optional(),
      profiles: z.array(z.string().min(1)).optional(),
    })
    .default({}),
  channel: z.string().min(1),
  to: Audience.default('eligible'),
});
export type NotificationRule = z.infer<typeof NotificationRule>;

/** `notifications:` in gatehouse.yaml. */
export const NotificationsConfig = z.strictObject({
  channels: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,40}$/i), ChannelConfig),
  rules: z.array(NotificationRule),
  /** Shares of the gate's timeout at which open gates are reminded (each in (0, 1)). */
  reminders: z.array(z.number().gt(0).lt(1)).max(10),
  /** Tell the requester the outcome (granted, denied, expired) on their own channel (email, else Slack). */
  notifyRequester: z.boolean(),
  retry: z.strictObject({
    attempts: z.number().int().min(1).max(50),
    baseDelayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0),
  }),
  /** How long a claimed attempt may stay without an outcome before another instance may try again. */
  leaseMs: z.number().int().min(1_000).max(3_600_000),
});
export type NotificationsConfig = z.infer<typeof NotificationsConfig>;

/** No channel, no rule: nothing is sent. Reminders at 50 % and 90 % of the timeout once rules exist. */
export const defaultNotificationsConfig: NotificationsConfig = {
  channels: {},
  rules: [],
  reminders: [0.5, 0.9],
  notifyRequester: true,
  retry: { attempts: 6, baseDelayMs: 2_000, maxDelayMs: 300_000 },
  leaseMs: 60_000,
};

/** A person a message can reach: a principal of auth.tokens with its addresses. */
export interface Recipient {
  readonly id: string;
  readonly role: string;
  readonly email?: string;
  readonly slackChannel?: string;
}

/**
 * What is wrong with a notifications config against the known roles and principals: each problem
 * with its path, so a start can refuse the file with a clear message.
 */
export function notificationConfigProblems(
  config: NotificationsConfig,
  roles: readonly string[],
  people: readonly Recipient[],
): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const channels = Object.keys(config.channels);
  config.rules.forEach((rule, i) => {
    const at = ['notifications', 'rules', i];
    const channel = config.channels[rule.channel];
    if (!channel) problems.push({ path: [...at, 'channel'], message: `rule ${rule.name}: no channel "${rule.channel}" under notifications.channels (channels: ${channels.join(', ') || 'none'})` });
    for (const [j, role] of (rule.when.roles ?? []).entries()) {
      if (!roles.includes(role)) problems.push({ path: [...at, 'when', 'roles', j], message: `rule ${rule.name}: unknown role "${role}" (known: ${roles.join(', ')})` });
    }
    const to = rule.to;
    if (to !== 'eligible' && 'role' in to && !roles.includes(to.role)) problems.push({ path: [...at, 'to', 'role'], message: `rule ${rule.name}: unknown role "${to.role}" (known: ${roles.join(', ')})` });
    if (to !== 'eligible' && 'principals' in to) {
      to.principals.forEach((id, j) => {
        const person = people.find((p) => p.id === id);
        if (!person) problems.push({ path: [...at, 'to', 'principals', j], message: `rule ${rule.name}: unknown principal "${id}" (not in auth.tokens)` });
        else if (channel?.type === 'email' && !person.email) problems.push({ path: [...at, 'to', 'principals', j], message: `rule ${rule.name}: principal "${id}" has no email for channel "${rule.channel}"` });
      });
    }
  });
  for (const [name, channel] of Object.entries(config.channels)) {
    // A send that may outlast its claim's lease could be claimed again by another instance while it runs.
    if (channel.timeoutMs >= config.leaseMs) problems.push({ path: ['notifications', 'channels', name, 'timeoutMs'], message: `channel ${name}: timeoutMs (${channel.timeoutMs}) must be below notifications.leaseMs (${config.leaseMs})` });
  }
  return problems;
}
