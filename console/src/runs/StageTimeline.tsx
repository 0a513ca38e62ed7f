import type { TraceEvent } from './event-feed';
import { formatTime } from './format';
import { stageTimeline } from './stages';

/** The lifecycle stages as a timeline, from the live trace. */
export function StageTimeline(props: { events: readonly TraceEvent[] }) {
  const marks = stageTimeline(props.events);
  return (
    <ol className="stage-timeline" aria-label="Lifecycle stages">
      {marks.map((m) => (
        <li key={m.stage} className={`stage stage-${m.state}`} aria-current={m.state === 'current' ? 'step' : undefined}>
          <strong>{m.stage.toLowerCase()}</strong>
          <span className="stage-state">{m.state}{m.events > 1 ? ` · ${m.events} events` : ''}</span>
          {m.firstAt && <time dateTime={m.firstAt}>{formatTime(m.firstAt)}</time>}
        </li>
      ))}
    </ol>
  );
}
