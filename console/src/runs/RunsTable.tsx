import { useSubscription } from 'urql';
import { Link } from 'wouter';
import { formatTime } from './format';
import { ROW_PROGRESS_SUBSCRIPTION, type RowProgressData, type RunRow } from './queries';

/**
 * Live status per row: a `runProgress` subscription for each visible run still RUNNING (at most
 * `LIVE_ROWS`; the server allows 25 subscriptions per connection, shared with the other pages).
 * Chosen over re-querying the list on some feed because the API has no runs-wide subscription,
 * and one per row sends only that run's changes. Finished runs change only by a resume, which a
 * refresh shows; new runs appear on a refresh too.
 */
export const LIVE_ROWS = 15;

function LiveRow(props: { run: RunRow }) {
  const [result] = useSubscription<RowProgressData>({ query: ROW_PROGRESS_SUBSCRIPTION, variables: { runId: props.run.runId } });
  return <Row run={result.data?.runProgress ?? props.run} live />;
}

function Row(props: { run: RunRow; live?: boolean }) {
  const { run } = props;
  return (
    <tr data-run-id={run.runId}>
      <td><Link href={`/runs/${encodeURIComponent(run.runId)}`}>{run.runId}</Link></td>
      <td>{run.goal}</td>
      <td><span className={`badge status-${run.status.toLowerCase()}`} data-testid="run-status">{run.status}</span>{props.live && run.status === 'RUNNING' && <span className="notice"> · {run.stage.toLowerCase()}</span>}</td>
      <td>{run.profile}</td>
      <td>{run.requester?.id ?? '–'}</td>
      <td>{formatTime(run.startedAt)}</td>
      <td><progress max={100} value={run.progress.percent} aria-label={`${run.progress.done} of ${run.progress.total} steps`} /> {run.progress.done}/{run.progress.total}</td>
    </tr>
  );
}

/** The runs of one page; RUNNING ones update live. */
export function RunsTable(props: { runs: readonly RunRow[] }) {
  let live = 0;
  return (
    <table className="runs-table">
      <thead>
        <tr><th scope="col">Run</th><th scope="col">Goal</th><th scope="col">Status</th><th scope="col">Profile</th><th scope="col">Requester</th><th scope="col">Started</th><th scope="col">Progress</th></tr>
      </thead>
      {/* polite: a status change is announced without taking focus */}
      <tbody aria-live="polite">
        {props.runs.map((run) => (run.status === 'RUNNING' && live++ < LIVE_ROWS ? <LiveRow key={run.runId} run={run} /> : <Row key={run.runId} run={run} />))}
      </tbody>
    </table>
  );
}
