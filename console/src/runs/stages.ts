import type { TraceEvent } from './event-feed';

/** The lifecycle stages in the order a run goes through them (schema.graphql `Stage`). */
export const STAGES = ['INITIALIZE', 'PLAN', 'ROUTE', 'APPROVE', 'EXECUTE', 'AGGREGATE', 'COMPLETE', 'FAILED'] as const;
export type StageName = (typeof STAGES)[number];

/** One stage on the timeline. */
export interface StageMark {
  readonly stage: StageName;
  /** done: reached and left; current: the last event's stage; skipped: never reached though a later one was; pending: not yet. */
  readonly state: 'done' | 'current' | 'skipped' | 'pending';
  readonly events: number;
  readonly firstAt?: string;
  readonly lastAt?: string;
}

/**
 * The lifecycle as a timeline, from the trace. Stages repeat (each step is routed, approved and
 * executed in turn), so a stage is "current" only as the stage of the newest event. FAILED is
 * shown only when the run reached it; COMPLETE stays pending meanwhile (a resumed run goes on), and
 * once reached it is done, never "current": nothing is under way in a completed run.
 */
export function stageTimeline(events: readonly Pick<TraceEvent, 'stage' | 'recordedAt'>[]): StageMark[] {
  const seen = new Map<string, { events: number; firstAt: string; lastAt: string }>();
  for (const e of events) {
    const mark = seen.get(e.stage);
    if (mark) seen.set(e.stage, { events: mark.events + 1, firstAt: mark.firstAt, lastAt: e.recordedAt });
    else seen.set(e.stage, { events: 1, firstAt: e.recordedAt, lastAt: e.recordedAt });
  }
  const current = events[events.length - 1]?.stage;
  const furthest = Math.max(-1, ...STAGES.map((s, i) => (seen.has(s) && s !== 'FAILED' ? i : -1)));
  return STAGES.filter((s) => s !== 'FAILED' || seen.has('FAILED')).map((stage, _i) => {
    const mark = seen.get(stage);
    const index = STAGES.indexOf(stage);
    const state: StageMark['state'] = mark ? (stage === current && stage !== 'COMPLETE' ? 'current' : 'done') : index < furthest ? 'skipped' : 'pending';
    return { stage, state, events: mark?.events ?? 0, ...(mark ? { firstAt: mark.firstAt, lastAt: mark.lastAt } : {}) };
  });
}
