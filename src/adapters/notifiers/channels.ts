import type { ChannelConfig, NotificationsConfig } from '../../domain/notifications/config.js';
import type { NotificationChannel } from '../../domain/ports/notifier.js';
import type { SecretProvider } from '../../domain/ports/secrets.js';
import { createEmailChannel } from './email-channel.js';
import { createSlackChannel } from './slack-channel.js';
import { createWebhookChannel } from './webhook-channel.js';

/** One channel adapter for a configured channel; `$secret` references are looked up at each send. */
export function channelFrom(config: ChannelConfig, secrets: SecretProvider): NotificationChannel {
  const lookup = (ref: { $secret: string }) => () => secrets.get(ref.$secret);
  switch (config.type) {
    case 'webhook':
      return createWebhookChannel({ url: config.url, secret: lookup(config.secret), signatureHeader: config.signatureHeader, timestampHeader: config.timestampHeader, timeoutMs: config.timeoutMs });
    case 'slack': {
      const url = config.webhookUrl;
      return createSlackChannel({ webhookUrl: typeof url === 'string' ? async () => url : lookup(url), timeoutMs: config.timeoutMs });
    }
    case 'email':
      return createEmailChannel({
        host: config.host, port: config.port, secure: config.secure, requireTLS: config.requireTLS, allowUnauthorizedTls: config.allowUnauthorizedTls,
        auth: config.auth ? { user: config.auth.user, pass: lookup(config.auth.pass) } : undefined,
        from: config.from, subject: config.subject, timeoutMs: config.timeoutMs,
      });
    default: {
      const never: never = config;
      return never;
    }
  }
}

/** Every configured channel by name. */
export function channelsFrom(config: NotificationsConfig, secrets: SecretProvider): Record<string, NotificationChannel> {
  return Object.fromEntries(Object.entries(config.channels).map(([name, c]) => [name, channelFrom(c, secrets)]));
}
