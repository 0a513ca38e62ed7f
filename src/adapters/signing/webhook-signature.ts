import { createHmac } from 'node:crypto';

/**
 * `v1=<hex>`: HMAC-SHA256 over `<timestamp>.<body>`, so a captured request cannot be replayed later
 * with another body. The one scheme of every signed request Gatehouse sends (webhook approvers and
 * webhook notifications).
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
