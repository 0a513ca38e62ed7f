import { RunId } from '../events/common.js';

/** The id of a step's gate, `<runId>/<stepId>/<run version>`: the run it belongs to is part of the id. */
export function approvalIdOf(runId: string, stepId: string, runVersion: number): string {
  return `${runId}/${stepId}/${runVersion}`;
}

/** The run an approval id belongs to, or undefined when it is not an approval id. */
export function runIdOfApprovalId(approvalId: unknown): string | undefined {
  if (typeof approvalId !== 'string') return undefined;
  const parts = approvalId.split('/');
  const runId = parts[0];
  return runId && parts.length === 3 && RunId.safeParse(runId).success ? runId : undefined;
}
