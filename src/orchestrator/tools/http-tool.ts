import type { z } from 'zod';
import { defineTool, type ToolDefinition, ToolError } from './tool.js';

export interface HttpToolOptions<I extends z.ZodType> extends Omit<ToolDefinition<I>, 'handler'> {
  /** The endpoint that runs the tool: it receives POST `{ input, idempotencyKey, runId, stepId, attempt }`. */
  readonly url: string;
  readonly headers?: Record<string, string>;
}

/**
 * A tool run by a remote service over HTTP. The status decides the failure mode: 4xx is the
 * caller's input (USER, not retried), 5xx and network errors are SYSTEM, a timeout is RESOURCE.
 */
export function httpTool<I extends z.ZodType>(options: HttpToolOptions<I>): ToolDefinition<I> {
  const { url, headers, ...definition } = options;
  return defineTool({
    ...definition,
    handler: async (input, ctx) => {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey, ...headers },
          body: JSON.stringify({ input, idempotencyKey: ctx.idempotencyKey, runId: ctx.runId, stepId: ctx.stepId, attempt: ctx.attempt }),
          signal: ctx.signal,
        });
      } catch (error) {
        if (ctx.signal.aborted) throw new ToolError('RESOURCE', `call to ${url} aborted: ${String(ctx.signal.reason ?? 'timeout')}`, 'ABORTED');
        throw new ToolError('SYSTEM', `cannot reach ${url}: ${(error as Error).message}`, 'NETWORK');
      }
      const text = await response.text();
      if (response.status >= 400 && response.status < 500) {
        throw new ToolError('USER', `${url} refused the call (${response.status}): ${text.slice(0, 500)}`, `HTTP_${response.status}`);
      }
      if (!response.ok) throw new ToolError('SYSTEM', `${url} failed (${response.status}): ${text.slice(0, 500)}`, `HTTP_${response.status}`);
      if (text.length === 0) return null;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new ToolError('AGENT', `${url} answered with invalid JSON`, 'BAD_RESPONSE');
      }
    },
  });
}
