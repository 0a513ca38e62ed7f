import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmailChannel } from '../../src/adapters/notifiers/email-channel.js';
import { createSlackChannel } from '../../src/adapters/notifiers/slack-channel.js';
import { createWebhookChannel } from '../../src/adapters/notifiers/webhook-channel.js';
import { composeMessage } from '../../src/domain/notifications/message.js';
import { decodeHeader, httpReceiver, parseMail, smtpReceiver } from '../support/receivers.js';

const message = composeMessage({ kind: 'requested' }, {
  approvalId: 'run-7/deploy/1', runId: 'run-7', tool: 'deploy.release', risk: { level: 'high', score: 72, factors: ['production deploy', 'friday'] },
  requester: 'alice', goal: 'ship 1.4 <to prod>', expiresAt: '2026-01-01T11:30:00.000Z', received: 0, required: 2, eligibleRoles: ['tech_lead', 'devops_engineer'],
}, 'requested/mail/bob@example.com', ['bob'], 'https://gatehouse.example.com', new Date('2026-01-01T10:00:00.000Z'));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The README's verification recipe, as a receiver would write it. */
function verify(secret: string, timestamp: string, rawBody: string, header: string, nowSeconds: number): boolean {
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return false; // refuse old (replayed) requests
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhook channel', () => {
  it('POSTs the message as JSON, signed over timestamp + body; the receiver verifies it with the README recipe', async () => {
    const hook = await httpReceiver();
    cleanups.push(hook.close);
    const channel = createWebhookChannel({ url: hook.url, secret: async () => 'hook-secret-1', signatureHeader: 'x-gatehouse-signature', timestampHeader: 'x-gatehouse-timestamp', timeoutMs: 5_000 });
    await channel.send(message, 'hook', AbortSignal.timeout(10_000));
    const [r] = hook.got;
    expect(r?.headers['content-type']).toBe('application/json');
    expect(r?.headers['idempotency-key']).toBe('run-7/deploy/1/requested/mail/bob@example.com');
    const ts = String(r?.headers['x-gatehouse-timestamp']);
    expect(verify('hook-secret-1', ts, r!.raw, String(r?.headers['x-gatehouse-signature']), Math.floor(Date.now() / 1000))).toBe(true);
    // The wrong key, a changed body or an old timestamp fail the check.
    expect(verify('other-secret', ts, r!.raw, String(r?.headers['x-gatehouse-signature']), Math.floor(Date.now() / 1000))).toBe(false);
    expect(verify('hook-secret-1', ts, r!.raw.replace('alice', 'mallory'), String(r?.headers['x-gatehouse-signature']), Math.floor(Date.now() / 1000))).toBe(false);
    expect(verify('hook-secret-1', ts, r!.raw, String(r?.headers['x-gatehouse-signature']), Number(ts) + 3600)).toBe(false);
    expect(r?.body).toMatchObject({ kind: 'approval_requested', approvalId: 'run-7/deploy/1', link: 'https://gatehouse.example.com/approvals/run-7%2Fdeploy%2F1', quorum: { received: 0, required: 2 } });
  });

  it('a non-2xx answer or a missing secret is an error (for the dispatcher to retry)', async () => {
    const hook = await httpReceiver(() => 503);
    cleanups.push(hook.close);
    const channel = createWebhookChannel({ url: hook.url, secret: async () => 'k-12345', signatureHeader: 's', timestampHeader: 't', timeoutMs: 5_000 });
    await expect(channel.send(message, 'hook', AbortSignal.timeout(10_000))).rejects.toThrow('the webhook answered 503');
    const unsigned = createWebhookChannel({ url: hook.url, secret: async () => undefined, signatureHeader: 's', timestampHeader: 't', timeoutMs: 5_000 });
    await expect(unsigned.send(message, 'hook', AbortSignal.timeout(10_000))).rejects.toThrow(/signing secret is not configured/);
  });
});

describe('Slack channel', () => {
  it('posts a Block Kit message: tool, risk and factors, requester, goal, time left, quorum, a button to the console card', async () => {
    const slack = await httpReceiver();
    cleanups.push(slack.close);
    const channel = createSlackChannel({ webhookUrl: async () => slack.url, timeoutMs: 5_000 });
    await channel.send(message, '#releases', AbortSignal.timeout(10_000));
    const body = slack.got[0]?.body as { channel: string; text: string; blocks: Array<Record<string, any>> };
    expect(body.channel).toBe('#releases');
    expect(body.text).toBe('Approval needed: deploy.release (high risk) for alice');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context', 'actions', 'context']);
    expect(body.blocks[1]?.text.text).toBe('*Goal:* ship 1.4 &lt;to prod&gt;');
    expect(body.blocks[2]?.fields.map((f: { text: string }) => f.text)).toEqual([
      '*Tool*\ndeploy.release', '*Risk*\nhigh (72)', '*Requester*\nalice', '*Time left*\n90 min', '*Approvals*\n0 of 2', '*Who may decide*\ntech_lead, devops_engineer',
    ]);
    expect(body.blocks[3]?.elements[0].text).toBe('*Risk factors:* production deploy; friday');
    expect(body.blocks[4]?.elements[0]).toMatchObject({ type: 'button', url: 'https://gatehouse.example.com/approvals/run-7%2Fdeploy%2F1', style: 'primary' });
  });
});

describe('email channel', () => {
  it('sends over SMTP with STARTTLS and auth: From, To, Subject from the template, a text and an HTML body with the link', async () => {
    const smtp = await smtpReceiver({ user: 'gatehouse', pass: 'smtp-pass-1' });
    cleanups.push(smtp.close);
    const channel = createEmailChannel({
      host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true, allowUnauthorizedTls: true,
      auth: { user: 'gatehouse', pass: async () => 'smtp-pass-1' }, from: 'Gatehouse <gatehouse@example.com>',
      subject: '[Gatehouse] {{kind}}: {{tool}} ({{risk}}) for {{requester}}', timeoutMs: 5_000,
    });
    await channel.send(message, 'bob@example.com', AbortSignal.timeout(10_000));
    const [mail] = smtp.mails;
    expect(mail).toMatchObject({ from: 'gatehouse@example.com', to: ['bob@example.com'], user: 'gatehouse', secure: true });
    const { headers, text, html } = parseMail(mail!.raw);
    expect(headers.from).toBe('Gatehouse <gatehouse@example.com>');
    expect(headers.to).toBe('bob@example.com');
    expect(decodeHeader(headers.subject ?? '')).toBe('[Gatehouse] requested: deploy.release (high) for alice');
    expect(headers['x-gatehouse-idempotency-key']).toBe('run-7/deploy/1/requested/mail/bob@example.com');
    expect(text).toContain('Tool: deploy.release');
    expect(text).toContain('Risk factors: production deploy; friday');
    expect(text).toContain('Approvals: 0 of 2');
    expect(text).toContain('Open the request: https://gatehouse.example.com/approvals/run-7%2Fdeploy%2F1');
    expect(html).toContain('<a href="https://gatehouse.example.com/approvals/run-7%2Fdeploy%2F1">');
    expect(html).toContain('ship 1.4 &lt;to prod&gt;');
  });

  it('a wrong password is refused by the server and reported, with the password nowhere in the error', async () => {
    const smtp = await smtpReceiver({ user: 'gatehouse', pass: 'smtp-pass-1' });
    cleanups.push(smtp.close);
    const channel = createEmailChannel({
      host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true, allowUnauthorizedTls: true,
      auth: { user: 'gatehouse', pass: async () => 'wrong-pass-9' }, from: 'gatehouse@example.com', subject: 's', timeoutMs: 5_000,
    });
    const error = await channel.send(message, 'bob@example.com', AbortSignal.timeout(10_000)).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/Invalid username or password|auth/i);
    expect(error?.message).not.toContain('wrong-pass-9');
    expect(smtp.logins).toEqual([{ user: 'gatehouse', ok: false }]);
    expect(smtp.mails).toEqual([]);
    expect(await channel.secrets()).toEqual(['wrong-pass-9']);
  });
});
