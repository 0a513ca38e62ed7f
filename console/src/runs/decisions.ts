import type { TraceEvent } from './event-feed';

/** One thing that happened at a gate: a request, a vote, an escalation, the end. */
export interface GateEntry {
  readonly kind: 'requested' | 'granted' | 'denied' | 'escalated' | 'expired' | 'cancelled' | 'auto-approved';
  /** Who: the principal (or automated approver) the log names. */
  readonly who: string;
  readonly role?: string;
  readonly at: string;
  /** Justification, reason, rule or escalation target, where the event has one (and the caller sees payloads). */
  readonly note?: string;
}

/** A step's gate: its approval id (when known) and what happened there, in order. */
export interface Gate {
  readonly stepId: string;
  readonly approvalId?: string;
  readonly entries: readonly GateEntry[];
}

const KINDS: Record<string, GateEntry['kind']> = {
  ApprovalRequested: 'requested', ApprovalGranted: 'granted', ApprovalDenied: 'denied', ApprovalEscalated: 'escalated',
  ApprovalExpired: 'expired', ApprovalCancelled: 'cancelled', ApprovalAutoApproved: 'auto-approved',
};

type Data = { approvalId?: string; approver?: { id?: string; role?: string } | string; by?: { id?: string; role?: string }; requester?: { id?: string; role?: string }; justification?: string; reason?: string; rule?: string; toRoles?: string[]; outcome?: string };

/**
 * Who decided what and when, per gate, from the run's events. Without payloads (a viewer) the
 * event's actor and time still say who and when; the approval id then comes from the run's steps.
 */
export function gatesOf(events: readonly TraceEvent[], approvalIdOfStep: (stepId: string) => string | undefined = () => undefined): Gate[] {
  const gates = new Map<string, { approvalId?: string; entries: GateEntry[] }>();
  for (const e of events) {
    const kind = KINDS[e.type];
    if (!kind || !e.stepId) continue;
    const d = (e.data ?? {}) as Data;
    const gate = gates.get(e.stepId) ?? { entries: [] };
    gate.approvalId ??= d.approvalId ?? approvalIdOfStep(e.stepId);
    // A request is appended by the engine: the person who asked is its `requester`.
    const principal = typeof d.approver === 'object' ? d.approver : d.by ?? d.requester;
    const who = typeof d.approver === 'string' ? d.approver : principal?.id ?? e.actor;
    const note = d.justification ?? d.reason ?? d.rule ?? (d.toRoles ? `to ${d.toRoles.join(', ')}` : undefined) ?? (d.outcome ? `timed out: ${d.outcome}` : undefined);
    gate.entries.push({ kind, who, at: e.recordedAt, ...(principal?.role ? { role: principal.role } : {}), ...(note ? { note } : {}) });
    gates.set(e.stepId, gate);
  }
  return [...gates].map(([stepId, g]) => ({ stepId, ...(g.approvalId ? { approvalId: g.approvalId } : {}), entries: g.entries }));
}
