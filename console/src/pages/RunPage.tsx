import { useEffect, useRef } from 'react';
import { useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { useSession } from '../auth/SessionContext';
import { ApprovalsPanel } from '../runs/ApprovalsPanel';
import { AuditPanel } from '../runs/AuditPanel';
import { BudgetPanel } from '../runs/BudgetPanel';
import { formatDuration, formatTime } from '../runs/format';
import { RUN_BUDGET_QUERY, RUN_PROGRESS_SUBSCRIPTION, type RunBudgetData, type RunProgressData } from '../runs/queries';
import { RoutingPanel } from '../runs/RoutingPanel';
import { RunActions } from '../runs/RunActions';
import { StageTimeline } from '../runs/StageTimeline';
import { StepDag } from '../runs/StepDag';
import { TraceList } from '../runs/TraceList';
import { useRunFeed } from '../runs/useRunFeed';
import '../runs/runs.css';

const FEED_TEXT = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', ended: 'ended', error: 'stopped' } as const;

/** /runs/:id: the run's state (live from runProgress), its trace (live from runEvents), and its panels. */
export function RunPage(props: { id: string }) {
  const { can } = useSession();
  // `data` on runEvents is for the roles that see payloads, the same roles as the export.
  const { feed, status, error: feedError } = useRunFeed(props.id, can('auditExport'));
  const [progress] = useSubscription<RunProgressData>({ query: RUN_PROGRESS_SUBSCRIPTION, variables: { runId: props.id } });
  const [budget, refetchBudget] = useQuery<RunBudgetData>({ query: RUN_BUDGET_QUERY, variables: { runId: props.id } });
  const events = feed.events.length;
  useEffect(() => {
    if (events > 0) refetchBudget({ requestPolicy: 'network-only' });
  }, [events, refetchBudget]);
  // Focus the heading when a run opens, so a screen reader starts at the page that replaced the list.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.id]);
  const run = progress.data?.runProgress;
  const runError = progress.error?.graphQLErrors[0]?.message ?? progress.error?.message;
  // A mistyped or foreign link: one plain sentence, not seven "pending" stages and buttons that cannot work.
  if (progress.error?.graphQLErrors.some((e) => e.extensions?.code === 'NOT_FOUND')) {
    return (
      <section className="run-page">
        <h1 ref={heading} tabIndex={-1}>Run <code>{props.id}</code></h1>
        <p className="error" role="alert">No run {props.id} is recorded. Check the address, or find the run under <Link href="/runs">Runs</Link>.</p>
      </section>
    );
  }

  return (
    <section className="run-page">
      <h1 ref={heading} tabIndex={-1}>Run <code>{props.id}</code></h1>
      <p className={`feed-status feed-${status}`} role="status" aria-live="polite" data-testid="feed-status">Trace: {FEED_TEXT[status]}</p>
      {feedError && <p className="error" role="alert">{feedError}</p>}
      {runError && <p className="error" role="alert">{runError}</p>}
      {!run && !runError && <p className="loading" role="status">Loading the run…</p>}
      {run && (
        <>
          <dl className="run-facts">
            <dt>Goal</dt><dd>{run.goal}</dd>
            <dt>Status</dt><dd><span className={`badge status-${run.status.toLowerCase()}`} data-testid="run-status">{run.status}</span> · {run.stage.toLowerCase()}</dd>
            <dt>Profile</dt><dd>{run.profile}{run.playbook ? ` · playbook ${run.playbook}` : ''}{run.errorStrategy ? ` · ${run.errorStrategy}` : ''}</dd>
            <dt>Requester</dt><dd>{run.requester ? `${run.requester.id} (${run.requester.role})` : '–'}</dd>
            <dt>Started</dt><dd>{formatTime(run.startedAt)}{run.endedAt ? `, ended ${formatTime(run.endedAt)} (${formatDuration(run.durationMs)})` : ''}</dd>
            <dt>Progress</dt>
            <dd><progress max={100} value={run.progress.percent} aria-label="Progress" /> {run.progress.done} of {run.progress.total} steps done{run.progress.inFlight ? `, ${run.progress.inFlight} in flight` : ''}</dd>
            {run.failure && <><dt>Failure</dt><dd className="error">{run.failure.failureMode ? `${run.failure.failureMode}: ` : ''}{run.failure.error.message}</dd></>}
            {run.cancelledBy && <><dt>Cancelled by</dt><dd>{run.cancelledBy.id} ({run.cancelledBy.role})</dd></>}
          </dl>
          <RunActions runId={run.runId} status={run.status} />
        </>
      )}
      <h2>Lifecycle</h2>
      <StageTimeline events={feed.events} />
      {run && (
        <>
          <h2>Steps</h2>
          <StepDag steps={run.steps} />
          <h2>Routing</h2>
          <RoutingPanel routing={run.routing} />
        </>
      )}
      <h2>Approvals</h2>
      <ApprovalsPanel events={feed.events} steps={run?.steps ?? []} />
      <h2>Budget</h2>
      {budget.error && <p className="error" role="alert">{budget.error.graphQLErrors[0]?.message ?? budget.error.message}</p>}
      {budget.data && <BudgetPanel lines={budget.data.budget.lines} />}
      <h2>Audit</h2>
      <AuditPanel runId={props.id} version={events} />
      <h2>Trace <span className="notice">({events} events)</span></h2>
      <TraceList events={feed.events} />
    </section>
  );
}
