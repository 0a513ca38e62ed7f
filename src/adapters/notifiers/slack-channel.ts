import type { NotificationMessage } from '../../domain/notifications/message.js';
import type { NotificationChannel } from '../../domain/ports/notifier.js';

/** Slack's mrkdwn needs `&`, `<` and `>` escaped; everything else is shown as written. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Messages that ask for a decision (the others tell an outcome). */
const ASKS = new Set<NotificationMessage['kind']>(['approval_requested', 'approval_escalated', 'approval_reminder']);

/** The Block Kit message: a header, the facts an approver decides on, and a button to the console card. */
export function slackPayload(m: NotificationMessage, to: string): Record<string, unknown> {
  const fields = [
    `*Tool*\n${esc(m.tool)}`,
    `*Risk*\n${esc(m.risk.level)} (${m.risk.score})`,
    `*Requester*\n${esc(m.requester)}`,
    `*Time left*\n${m.minutesLeft} min`,
    `*Approvals*\n${m.quorum.received} of ${m.quorum.required}`,
    `*Who may decide*\n${esc(m.eligibleRoles.join(', '))}`,
  ];
  return {
    // Only legacy incoming webhooks honour `channel`; a modern one posts to the channel it was made for.
    ...(to === 'default' ? {} : { channel: to }),
    text: m.title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: m.title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Goal:* ${esc(m.goal)}` } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `*Risk factors:* ${esc(m.risk.factors.join('; ') || 'none')}` }] },
      {
        type: 'actions',
        elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Gatehouse' }, url: m.link, action_id: 'open_approval', ...(ASKS.has(m.kind) ? { style: 'primary' } : {}) }],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Approval ${esc(m.approvalId)} · id ${esc(m.idempotencyKey)}` }] },
    ],
  };
}

/** A Slack incoming webhook. Its URL is a credential: it is looked up at each send and never stored. */
export function createSlackChannel(options: { readonly webhookUrl: () => Promise<string | undefined>; readonly timeoutMs: number }): NotificationChannel {
  return {
    type: 'slack',
    async send(message, to, signal) {
      const url = await options.webhookUrl();
      if (!url) throw new Error('the Slack webhook URL is not configured');
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(slackPayload(message, to)),
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
        redirect: 'error',
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`Slack answered ${response.status}`);
    },
    async secrets() {
      const url = await options.webhookUrl();
      return url ? [url] : [];
    },
  };
}
