import type { TraceEvent } from './event-feed';
import { formatTime } from './format';

/** The trace, one row per event (revision, type, stage, step, actor, time, hash), in stream order. */
export function TraceList(props: { events: readonly TraceEvent[] }) {
  return (
    <ol className="trace" aria-label="Events" aria-live="polite" aria-relevant="additions">
      {props.events.map((e) => (
        <li key={e.id} data-event-id={e.id} data-revision={e.revision} className={`trace-${e.stage.toLowerCase()}`}>
          <span className="trace-rev">#{e.revision}</span>
          <strong className="trace-type">{e.type}</strong>
          <span className="badge">{e.stage.toLowerCase()}</span>
          <span className="trace-step">{e.stepId ?? ''}</span>
          <span className="trace-actor">{e.actor}</span>
          <time dateTime={e.recordedAt}>{formatTime(e.recordedAt)}</time>
          <code className="trace-hash" title={e.hash ?? 'no hash'}>{e.hash?.slice(0, 12) ?? ''}</code>
          {e.data !== undefined && (
            <details className="trace-data">
              <summary>data</summary>
              <pre>{JSON.stringify(e.data, null, 2)}</pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
