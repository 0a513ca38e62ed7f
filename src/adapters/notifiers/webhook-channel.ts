import type { NotificationChannel } from '../../domain/ports/notifier.js';
import { webhookSignature } from '../signing/webhook-signature.js';

/** A generic webhook: the message as JSON, signed like the webhook approver's requests. */
export function createWebhookChannel(options: {
  readonly url: string;
  /** The HMAC-SHA256 key, looked up at each send. */
  readonly secret: () => Promise<string | undefined>;
  readonly signatureHeader: string;
  readonly timestampHeader: string;
  readonly timeoutMs: number;
  /** Seconds since the epoch, for the signed timestamp. */
  readonly now?: () => number;
}): NotificationChannel {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  return {
    type: 'webhook',
    async send(message, _to, signal) {
      const secret = await options.secret();
      if (!secret) throw new Error('the webhook channel\'s signing secret is not configured');
      const body = JSON.stringify(message);
      const timestamp = String(now());
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': message.idempotencyKey,
          [options.timestampHeader]: timestamp,
          [options.signatureHeader]: webhookSignature(secret, timestamp, body),
        },
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
        redirect: 'error',
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
    },
    async secrets() {
      const s = await options.secret();
      return s ? [s] : [];
    },
  };
}
