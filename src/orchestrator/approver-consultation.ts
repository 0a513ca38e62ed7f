import type { RiskLevel } from '../domain/events/common.js';
import type { Approver } from '../domain/ports/approver.js';
import type { RunCommand } from '../domain/run/commands.js';
import type { RunState } from '../domain/run/state.js';
import type { ReportError } from './engine-errors.js';
import type { InFlight } from './in-flight.js';

/** What the consultation needs that it does not own. */
export interface ApproverConsultationOptions {
  readonly approvers: readonly Approver[];
  readonly inFlight: InFlight;
  readonly report: ReportError;
  /** Records the answer through the command path, as the approver. */
  readonly execute: (runId: string, commands: readonly RunCommand[], actor: string) => Promise<RunState>;
}

/**
 * Asks the automated approvers about open gates, off the decision path; at most one consultation
 * per gate at a time.
 */
export class ApproverConsultation {
  private readonly consulting = new Map<string, AbortController>();

  constructor(private readonly options: ApproverConsultationOptions) {}

  /**
   * Asks the automated approvers about an open gate, in order, until one approves or denies; if
   * all hand over, the last hand-over is recorded. Not durable by itself: the gate stays
   * "not consulted" in the log until an answer is appended, so after a restart it is asked again.
   */
  consult(runId: string, state: RunState, approvalId: string): void {
    const { approvers } = this.options;
    if (this.consulting.has(approvalId) || approvers.length === 0) return;
    const gate = state.steps.find((s) => s.gate?.approvalId === approvalId)?.gate;
    if (!gate) return;
    const controller = new AbortController();
    this.consulting.set(approvalId, controller);
    const request = { runId, request: gate.request };
    const asked = (async () => {
      let last = { approver: approvers[0]?.name ?? 'none', decision: 'handover' as 'approve' | 'deny' | 'handover', reason: 'no automated approver', ceiling: 'medium' as RiskLevel, actsFor: [] as readonly string[] };
      for (const approver of approvers.filter((a) => gate.request.automatedApprovers.includes(a.name))) {
        let answer: { decision: 'approve' | 'deny' | 'handover'; reason: string };
        try {
          answer = await approver.decide(request, controller.signal);
        } catch (error) {
          answer = { decision: 'handover', reason: `${approver.name} failed: ${(error as Error).message}` };
        }
        last = { approver: approver.name, ...answer, ceiling: approver.maxRisk ?? 'medium', actsFor: approver.actsFor ?? [] };
        if (answer.decision !== 'handover') break;
      }
      if (controller.signal.aborted) return;
      await this.options.execute(runId, [{ type: 'RecordAutomatedDecision', approvalId, approver: last.approver, decision: last.decision, reason: last.reason, ceiling: last.ceiling, actsFor: last.actsFor }], `approver:${last.approver}`);
    })();
    const done = asked
      .catch((error: unknown) => this.options.report(error, { runId, what: 'consult', approvalId }))
      .finally(() => this.consulting.delete(approvalId));
    this.options.inFlight.track(done);
  }

  /** Stops every consultation under way (its answer, if any, is not recorded). */
  abortAll(): void {
    for (const c of this.consulting.values()) c.abort();
  }
}
