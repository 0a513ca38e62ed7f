import { z } from 'zod';
import type { Approver, AutomatedDecision } from '../../domain/ports/approver.js';

const Answer = z.object({ decision: z.enum(['approve', 'deny', 'handover']), reason: z.string().max(5_000).default('') });

/**
 * Asks a service: POST the request as JSON; a 2xx answer `{ decision, reason }` decides. A timeout,
 * a non-2xx status, an unreachable service or an answer of the wrong shape hands over to humans.
 */
export function createWebhookApprover(options: { name: string; url: string; timeoutMs?: number; headers?: Record<string, string> }): Approver {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    name: options.name,
    decide: async (request, signal): Promise<AutomatedDecision> => {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: JSON.stringify({ runId: request.runId, ...request.request }),
          signal: AbortSignal.any([signal, timeout]),
        });
        if (!response.ok) return { decision: 'handover', reason: `${options.name} answered ${response.status}` };
        const answer = Answer.safeParse(await response.json());
        if (!answer.success) return { decision: 'handover', reason: `${options.name} gave an answer of the wrong shape` };
        return { decision: answer.data.decision, reason: answer.data.reason || `${options.name} decided` };
      } catch (error) {
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
        return { decision: 'handover', reason: `${options.name}: ${why}` };
      }
    },
  };
}
