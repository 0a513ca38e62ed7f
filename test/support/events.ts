import type { EventToAppend } from '../../src/domain/ports/event-store.js';

/** Small valid run events for store tests. */
export const meta = (runId = 'r1', extra: Record<string, unknown> = {}) => ({
  correlationId: runId,
  actor: 'user:alice',
  ...extra,
});

export function runStarted(runId = 'r1'): EventToAppend {
  return {
    type: 'RunStarted',
    data: {
      runId,
      goal: 'deploy the release',
      profile: 'technical',
      requestedBy: { id: 'alice', role: 'developer' },
      errorStrategy: 'RETRY',
      budget: { totalCalls: 10, onExceed: 'block' },
      maxParallel: 4,
    },
    metadata: meta(runId),
  };
}

export function stepSucceeded(n: number, runId = 'r1', extra: { id?: string } = {}): EventToAppend {
  return {
    ...extra,
    type: 'ToolCallSucceeded',
    data: { stepId: `s${n}`, attempt: 1, output: { n }, durationMs: 1 },
    metadata: meta(runId),
  };
}

export function stepFailed(n: number, runId = 'r1'): EventToAppend {
  return {
    type: 'ToolCallFailed',
    data: {
      stepId: `s${n}`,
      attempt: 1,
      error: { message: 'boom' },
      failureMode: 'SYSTEM',
      retryable: true,
      durationMs: 2,
    },
    metadata: meta(runId),
  };
}
