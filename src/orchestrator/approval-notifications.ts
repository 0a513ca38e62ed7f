import type { RunEvent } from '../domain/events/index.js';
import type { ApprovalNotification } from '../domain/ports/notifier.js';
import type { RunState } from '../domain/run/state.js';

const KINDS: Partial<Record<RunEvent['type'], ApprovalNotification['event']>> = {
  ApprovalRequested: 'requested',
  ApprovalEscalated: 'escalated',
  ApprovalGranted: 'granted',
  ApprovalDenied: 'denied',
  ApprovalAutoApproved: 'auto_approved',
  ApprovalExpired: 'expired',
  ApprovalCancelled: 'cancelled',
};

/** The notifications a batch of appended events calls for, with each gate's risk level. */
export function approvalNotifications(runId: string, events: readonly RunEvent[], state: RunState, at: string): ApprovalNotification[] {
  const out: ApprovalNotification[] = [];
  for (const event of events) {
    const kind = KINDS[event.type];
    if (!kind) continue;
    const data = event.data as { approvalId: string; stepId: string };
    const gate = state.steps.find((s) => s.id === data.stepId)?.gate;
    out.push({ event: kind, approvalId: data.approvalId, runId, stepId: data.stepId, riskLevel: gate?.request.risk.level ?? 'unknown', at, data: event.data });
  }
  return out;
}
