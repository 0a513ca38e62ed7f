import { z } from 'zod';
import { RiskLevel } from '../events/common.js';

// What the config may say about automated approvers, pure so the config loader and the
// adapters that implement them share one definition.

/** One rule: when every condition holds, the decision applies. */
export const ApproverRule = z.strictObject({
  name: z.string().min(1),
  when: z.strictObject({
    tool: z.string().optional(),
    maxRisk: RiskLevel.optional(),
    minConfidence: z.number().optional(),
    maxAmount: z.number().optional(),
    requester: z.array(z.string()).optional(),
  }),
  decision: z.enum(['approve', 'deny', 'handover']),
  reason: z.string().optional(),
});
export type ApproverRule = z.infer<typeof ApproverRule>;

/** Header names of the request signature (configurable per approver). */
export const DEFAULT_SIGNATURE_HEADER = 'x-gatehouse-signature';
/** Header name of the signed timestamp (configurable per approver). */
export const DEFAULT_TIMESTAMP_HEADER = 'x-gatehouse-timestamp';

/** https, or plain http only to this machine: a request (and its answer) must not be readable or forgeable on the way. */
export function isAllowedApproverUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  if (parsed.protocol !== 'http:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
