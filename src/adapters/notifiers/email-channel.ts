import { createTransport } from 'nodemailer';
import { renderSubject, type NotificationMessage } from '../../domain/notifications/message.js';
import type { NotificationChannel } from '../../domain/ports/notifier.js';

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The plain-text body and the HTML body of one message (the same facts). */
export function emailBodies(m: NotificationMessage): { text: string; html: string } {
  const rows: Array<[string, string]> = [
    ['Tool', m.tool], ['Risk', `${m.risk.level} (${m.risk.score})`], ['Risk factors', m.risk.factors.join('; ') || 'none'],
    ['Requester', m.requester], ['Goal', m.goal], ['Time left', `${m.minutesLeft} min (expires ${m.expiresAt})`],
    ['Approvals', `${m.quorum.received} of ${m.quorum.required}`], ['Who may decide', m.eligibleRoles.join(', ')],
  ];
  const text = [m.title, '', ...rows.map(([k, v]) => `${k}: ${v}`), '', `Open the request: ${m.link}`,
    'The link decides nothing by itself: you sign in to the console and confirm there.', '', `Approval ${m.approvalId} · id ${m.idempotencyKey}`].join('\n');
  const body = `<h2>${html(m.title)}</h2><table>${rows.map(([k, v]) => `<tr><th align="left">${html(k)}</th><td>${html(v)}</td></tr>`).join('')}</table>`
    + `<p><a href="${html(m.link)}">Open the request in Gatehouse</a></p><p><small>The link decides nothing by itself: you sign in to the console and confirm there.<br>Approval ${html(m.approvalId)} · id ${html(m.idempotencyKey)}</small></p>`;
  return { text, html: body };
}

/** Email over SMTP with nodemailer: STARTTLS (required by default) or TLS, optional auth, a subject template. */
export function createEmailChannel(options: {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly allowUnauthorizedTls: boolean;
  readonly auth?: { readonly user: string; readonly pass: () => Promise<string | undefined> };
  readonly from: string;
  readonly subject: string;
  readonly timeoutMs: number;
}): NotificationChannel {
  return {
    type: 'email',
    async send(message, to, signal) {
      const pass = options.auth ? await options.auth.pass() : undefined;
      if (options.auth && !pass) throw new Error('the SMTP password is not configured');
      // One connection per message: sends are rare, and a pooled socket would outlive a stopped server.
      const transport = createTransport({
        host: options.host, port: options.port, secure: options.secure, requireTLS: options.requireTLS,
        tls: options.allowUnauthorizedTls ? { rejectUnauthorized: false } : undefined,
        auth: options.auth && pass ? { user: options.auth.user, pass } : undefined,
        connectionTimeout: options.timeoutMs, greetingTimeout: options.timeoutMs, socketTimeout: options.timeoutMs,
      });
      const abort = () => transport.close();
      signal.addEventListener('abort', abort, { once: true });
      try {
        const bodies = emailBodies(message);
        await transport.sendMail({
          from: options.from, to, subject: renderSubject(options.subject, message), text: bodies.text, html: bodies.html,
          headers: { 'X-Gatehouse-Idempotency-Key': message.idempotencyKey },
        });
      } finally {
        signal.removeEventListener('abort', abort);
        transport.close();
      }
    },
    async secrets() {
      const pass = options.auth ? await options.auth.pass() : undefined;
      return pass ? [pass] : [];
    },
  };
}
