/**
 * Where a run's stored bytes go: the `data` and `metadata` columns of the rows after a position,
 * by event type and by top-level field, per run. What the engine bench prints beside its bytes per run.
 */
import Database from 'better-sqlite3';
import type { Row } from './table.js';

/** Bytes per run by event type, then the largest top-level fields (key, value and separator), from the file at `path`. */
export function storedBytesBreakdown(path: string, afterPosition: number, runs: number, topFields = 12): { byType: Row[]; byField: Row[] } {
  const db = new Database(path, { readonly: true });
  const types = new Map<string, { events: number; data: number; metadata: number }>();
  const fields = new Map<string, number>();
  try {
    const rows = db.prepare('SELECT type, data, metadata FROM events WHERE position > ?').iterate(afterPosition) as Iterable<{ type: string; data: string; metadata: string }>;
    for (const r of rows) {
      const t = types.get(r.type) ?? { events: 0, data: 0, metadata: 0 };
      t.events++;
      t.data += Buffer.byteLength(r.data);
      t.metadata += Buffer.byteLength(r.metadata);
      types.set(r.type, t);
      for (const [column, text, owner] of [['data', r.data, r.type], ['metadata', r.metadata, '*']] as const) {
        const value = JSON.parse(text) as Record<string, unknown>;
        for (const [k, v] of Object.entries(value)) {
          const key = `${column} ${owner}.${k}`;
          fields.set(key, (fields.get(key) ?? 0) + Buffer.byteLength(JSON.stringify(k)) + Buffer.byteLength(JSON.stringify(v)) + 2);
        }
      }
    }
  } finally {
    db.close();
  }
  const per = (n: number) => Math.round(n / runs);
  const byType = [...types].sort((a, b) => b[1].data + b[1].metadata - (a[1].data + a[1].metadata)).map(([type, t]) => ({
    'event type': type, 'events/run': Number((t.events / runs).toFixed(2)), 'data bytes/run': per(t.data), 'metadata bytes/run': per(t.metadata), 'total/run': per(t.data + t.metadata),
  }));
  const byField = [...fields].sort((a, b) => b[1] - a[1]).slice(0, topFields).map(([field, bytes]) => ({ field, 'bytes/run': per(bytes) }));
  return { byType, byField };
}
