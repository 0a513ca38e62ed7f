import type { ChannelType } from '../notifications/config.js';
import type { NotificationMessage } from '../notifications/message.js';

/**
 * One configured channel (a signed webhook, a Slack incoming webhook, an SMTP relay). `send`
 * resolves when the receiver accepted the message and throws otherwise; it never retries (the
 * dispatcher retries from the log).
 */
export interface NotificationChannel {
  readonly type: ChannelType;
  send(message: NotificationMessage, to: string, signal: AbortSignal): Promise<void>;
  /** The secret values this channel uses now (passwords, signing keys, token URLs): scrubbed from any stored error. */
  secrets(): Promise<string[]>;
}
