import type { z } from 'zod';
import type { SecretProvider } from '../../domain/ports/secrets.js';
import { redact, SensitiveKeys } from '../../domain/secrets.js';
import { defineTool, type ToolDefinition, ToolError } from './tool.js';

export interface HttpToolOptions<I extends z.ZodType> extends Omit<ToolDefinition<I>, 'handler'> {
  /** The endpoint that runs the tool. */
  readonly url: string;
  /** Default POST. With GET the input's top-level fields become the query string. */
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * `envelope` (default): the body is `{ input, idempotencyKey, runId, stepId, attempt }`;
   * `input`: the body is the input itself (an existing HTTP API).
   */
  readonly body?: 'envelope' | 'input';
  readonly headers?: Record<string, string>;
  /** Headers whose values are secrets (by secret name, after an optional prefix): resolved at each call, never stored, and redacted from what comes back. */
  readonly secretHeaders?: Record<string, { readonly secret: string; readonly prefix?: string }>;
  readonly secrets?: SecretProvider;
}

const noKeys = new SensitiveKeys([], []);

/**
 * A tool run by a remote service over HTTP. The idempotency key travels as the `idempotency-key`
 * header. The status decides the failure mode: 4xx is the caller's input (USER, not retried), 5xx
 * and network errors are SYSTEM, a timeout is RESOURCE.
 */
export function httpTool<I extends z.ZodType>(options: HttpToolOptions<I>): ToolDefinition<I> {
  const { url, headers, method = 'POST', body = 'envelope', secretHeaders = {}, secrets, ...definition } = options;
  return defineTool({
    ...definition,
    handler: async (input, ctx) => {
      const resolved: Record<string, string> = {};
      const known: string[] = [];
      for (const [header, { secret, prefix = '' }] of Object.entries(secretHeaders)) {
        const value = await secrets?.get(secret);
        if (value === undefined) throw new ToolError('USER', `secret ${secret} (header ${header}) is not configured`, 'SECRET_NOT_FOUND', false);
        resolved[header] = `${prefix}${value}`;
        known.push(value);
      }
      // A service that echoes a header must not leak its secret into the log.
      const clean = <T>(v: T): T => (known.length === 0 ? v : (redact(v, noKeys, known) as T));
      const target = new URL(url);
      if (method === 'GET') {
        for (const [k, v] of Object.entries((input ?? {}) as Record<string, unknown>)) target.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      }
      const payload = body === 'input' ? input : { input, idempotencyKey: ctx.idempotencyKey, runId: ctx.runId, stepId: ctx.stepId, attempt: ctx.attempt };
      let response: Response;
      try {
        response = await fetch(target, {
          method,
          headers: { ...(method === 'GET' ? {} : { 'content-type': 'application/json' }), 'idempotency-key': ctx.idempotencyKey, ...headers, ...resolved },
          ...(method === 'GET' ? {} : { body: JSON.stringify(payload) }),
          signal: ctx.signal,
        });
      } catch (error) {
        if (ctx.signal.aborted) throw new ToolError('RESOURCE', `call to ${url} aborted: ${String(ctx.signal.reason ?? 'timeout')}`, 'ABORTED');
        throw new ToolError('SYSTEM', `cannot reach ${url}: ${(error as Error).message}`, 'NETWORK');
      }
      const text = clean(await response.text());
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
