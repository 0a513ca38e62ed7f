import type { EventToAppend } from '../../src/domain/ports/event-store.js';

/** A realistic event for store benchmarks: a tool result with a small output. */
export function sampleEvent(i: number): EventToAppend {
  return {
    type: 'ToolCallSucceeded',
    data: { stepId: `step-${i % 5}`, attempt: 1, output: { ok: true, rows: i % 17, note: 'deployed to staging' }, durationMs: 3.5 },
    metadata: { correlationId: `run-${i >> 4}`, causationId: `cmd-${i}`, actor: 'system:engine' },
  };
}

/** A row of the SQLite events table as raw better-sqlite3 returns it (the benchmarks' baseline). */
export interface RawRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
}
