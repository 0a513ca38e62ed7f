import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RunState, StepState } from '../domain/run/state.js';
import { TERMINAL_RUN } from '../domain/run/state.js';

/** The step id of the one-step run a `tools/call` starts. */
export const CALL_STEP_ID = 'call';

/** Where a call's run stands, as an MCP caller sees it: still open (and why), or finished with a result. */
export type CallOutcome =
  | { readonly kind: 'open'; readonly message: string; readonly approvalId?: string }
  | { readonly kind: 'done'; readonly result: CallToolResult };

/** Who denied a gate and why, read from the log by the caller of {@link outcomeOf} (the fold keeps only the id). */
export interface Denial {
  readonly approver: string;
  readonly justification?: string;
}

/**
 * A projection of the run's state for the MCP caller: the waiting message while a gate is open
 * ("waiting for approval <id>: high risk, 1 of 2 approvals"), the tool's output once the run
 * succeeded, an `isError` result naming the failure otherwise.
 */
export function outcomeOf(state: RunState, denial?: Denial): CallOutcome {
  const step = state.steps.find((s) => s.id === CALL_STEP_ID);
  const meta = { 'gatehouse/runId': state.runId, 'gatehouse/status': state.status };
  if (!TERMINAL_RUN.has(state.status)) return { kind: 'open', ...waiting(step) };
  if (state.status === 'SUCCEEDED' && step?.status === 'SUCCEEDED') {
    return { kind: 'done', result: { content: [{ type: 'text', text: JSON.stringify(step.output ?? null) }], _meta: meta } };
  }
  return { kind: 'done', result: { isError: true, content: [{ type: 'text', text: failureText(state, step, denial) }], _meta: meta } };
}

function waiting(step: StepState | undefined): { message: string; approvalId?: string } {
  const gate = step?.gate;
  if (step?.status === 'AWAITING_APPROVAL' && gate) {
    const need = gate.request.requiredApprovals;
    return {
      approvalId: gate.approvalId,
      message: `waiting for approval ${gate.approvalId}: ${gate.request.risk.level} risk, ${gate.approvers.length} of ${need} approval${need === 1 ? '' : 's'}`,
    };
  }
  if (step?.status === 'RETRY_WAIT') return { message: `attempt ${step.attempts} failed; retrying at ${step.retryAt ?? 'once due'}` };
  return { message: `${(step?.status ?? 'PENDING').toLowerCase().replace('_', ' ')}` };
}

function failureText(state: RunState, step: StepState | undefined, denial: Denial | undefined): string {
  const run = `run ${state.runId} ${state.status}`;
  if (step?.gate?.status === 'DENIED' && denial) {
    return `denied by ${denial.approver}${denial.justification ? `: ${denial.justification}` : ' (no reason given)'} (${run})`;
  }
  const error = step?.error ?? state.failure?.error;
  const mode = step?.failureMode ?? state.failure?.failureMode;
  if (state.status === 'CANCELLED') return `cancelled (${run})`;
  return `${mode ? `${mode} failure` : 'failed'}: ${error?.message ?? 'no error recorded'} (${run})`;
}

/** The result a caller gets when the wait limit passes before the run finished. */
export function stillWaiting(runId: string, open: Extract<CallOutcome, { kind: 'open' }>): CallToolResult {
  const what = open.approvalId ? `still waiting for approval ${open.approvalId}` : `still running (${open.message})`;
  return {
    isError: true,
    content: [{ type: 'text', text: `${what}; run ${runId}: call gatehouse.run_status with {"runId":"${runId}"} later` }],
    _meta: { 'gatehouse/runId': runId, 'gatehouse/status': 'RUNNING' },
  };
}
