import { forwardRef } from 'react';
import { Link } from 'wouter';
import { approvalPath } from './address';
import { useSession } from '../auth/SessionContext';
import { Countdown } from './Countdown';
import { DECISION_LABEL, type DecisionMode, mayOffer } from './decision';
import { DecisionForm } from './DecisionForm';
import type { ApprovalCardData, DecisionPayload } from './queries';
import { quorum } from './quorum';
import { RunGoal } from './RunGoal';

const MODES: DecisionMode[] = ['approve', 'deny', 'escalate', 'cancel'];

/** "GRANTED" → "granted"; the outcome of a closed gate. */
const OUTCOME: Record<ApprovalCardData['status'], string> = {
  OPEN: 'open',
  GRANTED: 'granted',
  DENIED: 'denied',
  EXPIRED_DENIED: 'expired (denied)',
  CANCELLED: 'withdrawn',
};

/**
 * One approval as a decision card (Camunda's Tasklist): what would run, how risky, who asked,
 * how long is left, and the buttons this principal is offered. The card is focusable so that
 * keyboard selection moves focus to it and a screen reader reads its label.
 */
export const ApprovalCard = forwardRef<HTMLElement, {
  approval: ApprovalCardData;
  toolSchema: unknown;
  selected?: boolean;
  open?: DecisionMode | undefined;
  onOpen: (mode: DecisionMode | undefined) => void;
  onDone: (message: string, payload: DecisionPayload) => void;
  onSelect?: () => void;
}>(function ApprovalCard(props, ref) {
  const { me, can } = useSession();
  const a = props.approval;
  const q = quorum(a.receivedApprovals, a.requiredApprovals, a.approvers);
  const what = a.tool ?? a.stepId;
  const isOpen = a.status === 'OPEN';
  const headingId = `approval-${a.approvalId}`;
  return (
    <article
      ref={ref}
      tabIndex={-1}
      className={`card approval-card${props.selected ? ' selected' : ''}`}
      aria-labelledby={headingId}
      aria-current={props.selected ? 'true' : undefined}
      data-approval-id={a.approvalId}
      onClick={props.onSelect}
    >
      <header>
        <h2 id={headingId}>
          <Link href={approvalPath(a.approvalId)}>{what}</Link>{' '}
          <span className={`badge risk-${a.risk.level}`}>{a.risk.level} risk</span>
          {a.priority === 'urgent' && <span className="badge urgent">urgent</span>}
          {!isOpen && <span className="badge outcome" data-testid="outcome">{OUTCOME[a.status]}</span>}
        </h2>
      </header>
      <dl className="facts">
        <dt>Risk</dt>
        <dd>
          {a.risk.level} ({a.risk.score}){a.risk.factors.length > 0 && <>: {a.risk.factors.join(', ')}</>}
        </dd>
        <dt>Confidence</dt>
        <dd>
          {a.confidence.score}, {a.reviewLevel.toLowerCase()} review
          {a.confidence.adjustments.length > 0 && <> ({a.confidence.adjustments.map((x) => `${x.reason} ${x.delta > 0 ? '+' : ''}${x.delta}`).join(', ')})</>}
        </dd>
        <dt>Approvals</dt>
        <dd>
          <span data-testid="quorum" aria-label={q.label} title={q.label}>{q.text}</span>
          {a.approvers.length > 0 && <> by {a.approvers.join(', ')}</>} · {a.eligibleRoles.join(' or ')}
          {a.justificationRequired && <> · justification required</>}
        </dd>
        <dt>Requester</dt>
        <dd>{a.requester.id} ({a.requester.role})</dd>
        <dt>{isOpen ? 'Time left' : 'Outcome'}</dt>
        <dd>{isOpen ? <Countdown expiresAt={a.expiresAt} /> : OUTCOME[a.status]}</dd>
        <dt>Run</dt>
        <dd><RunGoal runId={a.runId} /> · step {a.stepId}</dd>
      </dl>
      {a.escalations.length > 0 && (
        <ul className="escalations" aria-label="Escalations">
          {a.escalations.map((e) => <li key={e.at}>escalated by {e.by.id} to {e.toRoles.join(', ')}{e.reason ? `: ${e.reason}` : ''}</li>)}
        </ul>
      )}
      {a.input && (
        <details open>
          <summary>Input (redacted)</summary>
          <pre data-testid="input">{JSON.stringify(a.input, null, 2)}</pre>
        </details>
      )}
      {isOpen && (
        <div className="actions" role="group" aria-label={`Decide ${what}`}>
          {MODES.filter((m) => mayOffer(m, me, can, a.requester.id)).map((m) => (
            <button key={m} type="button" aria-expanded={props.open === m} onClick={() => props.onOpen(props.open === m ? undefined : m)}>
              {DECISION_LABEL[m]}…
            </button>
          ))}
        </div>
      )}
      {isOpen && props.open && (
        <DecisionForm key={props.open} approval={a} mode={props.open} toolSchema={props.toolSchema} onClose={() => props.onOpen(undefined)} onDone={props.onDone} />
      )}
    </article>
  );
});
