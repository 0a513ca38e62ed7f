import { z } from 'zod';
import type { RiskLevel } from '../../domain/events/common.js';
import { DEFAULT_SIGNATURE_HEADER, DEFAULT_TIMESTAMP_HEADER, isAllowedApproverUrl } from '../../domain/approvals/automated-approvers.js';
import type { Approver, AutomatedDecision } from '../../domain/ports/approver.js';
import { webhookSignature } from '../signing/webhook-signature.js';

const Answer = z.object({ decision: z.enum(['approve', 'deny', 'handover']), reason: z.string().max(5_000).default('') });

/** Options of a webhook approver; `secret` is looked up at each request (by `$secret` reference in config). */
export interface WebhookApproverOptions {
  readonly name: string;
  readonly url: string;
  /** The HMAC-SHA256 key, looked up when a request is sent; none: the request is not sent (hand-over). */
  readonly secret: () => Promise<string | undefined>;
  readonly timeoutMs?: number;
  /** Extra headers; a value may itself be looked up (a bearer token kept as a secret). */
  readonly headers?: Record<string, string | (() => Promise<string | undefined>)>;
  readonly signatureHeader?: string;
  readonly timestampHeader?: string;
  readonly maxRisk?: RiskLevel;
  readonly actsFor?: readonly string[];
  /** Seconds since the epoch, for the signed timestamp. */
  readonly now?: () => number;
}


/**
 * Asks a service: POST the request as JSON, signed (HMAC-SHA256 over timestamp and body); a 2xx
 * answer `{ decision, reason }` decides. A timeout, a non-2xx status, an unreachable service, a
 * missing secret or an answer of the wrong shape hands over to humans.
 */
export function createWebhookApprover(options: WebhookApproverOptions): Approver {
  if (!isAllowedApproverUrl(options.url)) throw new Error(`approver ${options.name}: ${options.url} must be https (plain http only to localhost)`);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const signatureHeader = options.signatureHeader ?? DEFAULT_SIGNATURE_HEADER;
  const timestampHeader = options.timestampHeader ?? DEFAULT_TIMESTAMP_HEADER;
  return {
    name: options.name,
    maxRisk: options.maxRisk,
    actsFor: options.actsFor,
    timeoutMs,
    decide: async (request, signal): Promise<AutomatedDecision> => {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const secret = await options.secret();
        if (!secret) return { decision: 'handover', reason: `${options.name}: its signing secret is not configured` };
        const extra: Record<string, string> = {};
        for (const [k, v] of Object.entries(options.headers ?? {})) {
          const value = typeof v === 'string' ? v : await v();
          if (value === undefined) return { decision: 'handover', reason: `${options.name}: the secret for header ${k} is not configured` };
          extra[k] = value;
        }
        const body = JSON.stringify({ runId: request.runId, ...request.request });
        const timestamp = String(now());
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { ...extra, 'content-type': 'application/json', [timestampHeader]: timestamp, [signatureHeader]: webhookSignature(secret, timestamp, body) },
          body,
          signal: AbortSignal.any([signal, timeout]),
          redirect: 'error',
        });
        if (!response.ok) return { decision: 'handover', reason: `${options.name} answered ${response.status}` };
        const answer = Answer.safeParse(await response.json());
        if (!answer.success) return { decision: 'handover', reason: `${options.name} gave an answer of the wrong shape` };
        // An approval without a reason stays without one: a gate that needs a justification refuses it.
        return { decision: answer.data.decision, reason: answer.data.reason || (answer.data.decision === 'approve' ? '' : `${options.name} decided`) };
      } catch (error) {
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
        return { decision: 'handover', reason: `${options.name}: ${why}` };
      }
    },
  };
}
