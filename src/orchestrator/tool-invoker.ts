import { performance } from 'node:perf_hooks';
import type { FailureMode } from '../domain/events/common.js';
import type { RunEventData } from '../domain/events/index.js';
import type { SecretProvider } from '../domain/ports/secrets.js';
import type { ToolOutcome } from '../domain/run/commands.js';
import { redact, resolveSecretRefs, secretNames, type SensitiveKeys } from '../domain/secrets.js';
import { type ToolDefinition, ToolError } from './tools/tool.js';

type StartedCall = RunEventData<'ToolCallStarted'>;

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Abort a call with this reason to stop waiting for it (shutdown); any other abort reason only
 * signals the tool, whose answer is still awaited and recorded (cancellation).
 */
export class AbandonCall extends Error {
  override name = 'AbandonCall';
}

/**
 * Runs one claimed call: resolves its secret references, validates input and output, enforces the
 * timeout through the AbortSignal, classifies every way it can end, and redacts what comes back
 * (sensitive keys, and any resolved secret value wherever it appears) before it reaches the log.
 */
export class ToolInvoker {
  constructor(
    private readonly secrets: SecretProvider,
    private readonly sensitive: SensitiveKeys,
  ) {}

  /** Never throws: every way a call ends is an outcome. */
  async invoke(runId: string, call: StartedCall, tool: ToolDefinition | undefined, controller: AbortController): Promise<ToolOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
    if (!tool) return fail(`unknown tool ${call.tool}`, 'UNKNOWN_TOOL', 'POLICY', 0);
    const names = secretNames(call.input);
    const values = new Map<string, string>();
    for (const name of names) {
      const value = await this.secrets.get(name);
      if (value === undefined) return fail(`secret ${name} is not configured`, 'SECRET_NOT_FOUND', 'USER', 0);
      values.set(name, value);
    }
    const known = [...values.values()];
    const clean = <T>(v: T): T => redact(v, this.sensitive, known, { freeText: true }) as T;
    // Scrubbed before fail() cuts the message: a secret across the cut would otherwise leave its first half.
    const failed = (message: string, code: string | undefined, mode: FailureMode, ms: number) => clean(fail(clean(message), code, mode, ms));
    const input = tool.input.safeParse(names.length === 0 ? call.input : resolveSecretRefs(call.input, (n) => values.get(n) as string));
    if (!input.success) {
      return failed(`input does not fit ${tool.name}: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'BAD_INPUT', 'USER', 0);
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(call.timeoutMs);
        controller.abort(error);
        reject(error);
      }, call.timeoutMs);
      onAbort = () => {
        if (controller.signal.reason instanceof AbandonCall) reject(controller.signal.reason);
      };
      controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const context = { signal: controller.signal, idempotencyKey: call.idempotencyKey, runId, stepId: call.stepId, attempt: call.attempt };
      const raw = await Promise.race([Promise.resolve().then(() => tool.handler(input.data, context)), timedOut]);
      let output: unknown = raw === undefined ? null : raw;
      if (tool.output) {
        const parsed = tool.output.safeParse(raw);
        if (!parsed.success) return failed(`output does not fit ${tool.name}: ${parsed.error.issues[0]?.message ?? ''}`, 'BAD_OUTPUT', 'AGENT', elapsed());
        output = parsed.data;
      }
      return { ok: true, output: clean(output), durationMs: elapsed() };
    } catch (error) {
      if (error instanceof TimeoutError) return fail(error.message, 'TIMEOUT', 'RESOURCE', elapsed());
      if (controller.signal.aborted) {
        const reason = controller.signal.reason as unknown;
        return failed(`aborted: ${reason instanceof Error ? reason.message : String(reason)}`, 'ABORTED', 'SYSTEM', elapsed());
      }
      if (error instanceof ToolError) {
        const outcome = fail(clean(error.message), error.code, error.failureMode, elapsed());
        return clean(error.retryable === undefined ? outcome : { ...outcome, retryable: error.retryable });
      }
      return failed(error instanceof Error ? error.message : String(error), undefined, 'AGENT', elapsed());
    } finally {
      clearTimeout(timer);
      if (onAbort) controller.signal.removeEventListener('abort', onAbort);
    }
  }
}

function fail(message: string, code: string | undefined, failureMode: FailureMode, durationMs: number): ToolOutcome {
  return { ok: false, error: code ? { message: message.slice(0, 10_000), code } : { message: message.slice(0, 10_000) }, failureMode, durationMs };
}
