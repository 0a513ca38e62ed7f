import { formatTime } from './format';
import type { Routing } from './queries';

/** Each routing decision: the worker chosen, why, and the workers turned down (with their score and reason). */
export function RoutingPanel(props: { routing: readonly Routing[] }) {
  if (props.routing.length === 0) return <p className="notice">No step routed yet.</p>;
  return (
    <ul className="routing-list">
      {props.routing.map((r) => (
        <li key={`${r.stepId}-${r.at}`}>
          <strong>{r.stepId}</strong> → <strong>{r.worker}</strong> <span className="notice">({r.policy}, {formatTime(r.at)})</span>
          <p>{r.reasoning}</p>
          {r.alternatives.length > 0 && (
            <table className="alternatives">
              <caption className="sr-only">Workers not chosen for {r.stepId}</caption>
              <thead><tr><th scope="col">Not chosen</th><th scope="col">Score</th><th scope="col">Why</th></tr></thead>
              <tbody>{r.alternatives.map((a) => <tr key={a.worker}><td>{a.worker}</td><td>{a.score}</td><td>{a.reason}</td></tr>)}</tbody>
            </table>
          )}
        </li>
      ))}
    </ul>
  );
}
