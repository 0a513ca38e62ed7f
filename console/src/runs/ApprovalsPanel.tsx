import { Link } from 'wouter';
import { gatesOf } from './decisions';
import type { TraceEvent } from './event-feed';
import { formatTime } from './format';
import type { RunStep } from './queries';

/** The run's gates: who asked, who decided what and when, each linked to its approval's page. */
export function ApprovalsPanel(props: { events: readonly TraceEvent[]; steps: readonly RunStep[] }) {
  const approvalOf = new Map(props.steps.filter((s) => s.approvalId).map((s) => [s.id, s.approvalId as string]));
  const gates = gatesOf(props.events, (stepId) => approvalOf.get(stepId));
  if (gates.length === 0) return <p className="notice">No approval requested in this run.</p>;
  return (
    <ul className="gates">
      {gates.map((g) => (
        <li key={g.stepId}>
          <strong>{g.stepId}</strong>{' '}
          {g.approvalId && <Link href={`/approvals/${encodeURIComponent(g.approvalId)}`}>approval {g.approvalId}</Link>}
          <ol>
            {g.entries.map((e, i) => (
              <li key={i} data-gate-entry={e.kind}>
                <span className={`badge gate-${e.kind}`}>{e.kind}</span> by <strong>{e.who}</strong>{e.role ? ` (${e.role})` : ''} at <time dateTime={e.at}>{formatTime(e.at)}</time>
                {e.note && <q className="gate-note">{e.note}</q>}
              </li>
            ))}
          </ol>
        </li>
      ))}
    </ul>
  );
}
