/** Number formatting for the signals and budgets screens (one place, so table and charts agree). */

const DASH = '—';

/** A share (0..1) as a percentage with one decimal: 0.5 → "50.0 %". */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return DASH;
  return `${(share * 100).toFixed(1)} %`;
}

/**
 * A duration in milliseconds, in the unit a person reads best: sub-millisecond tool calls and
 * approval waits of minutes share one screen. Nothing measured (count 0) reads as a dash, not 0 ms.
 */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * Calls per second; small rates as calls per minute, and under one a minute per hour (two calls in
 * the last hour read "0.0/min" beside a count of 2, as if nothing had run).
 */
export function formatThroughput(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return DASH;
  if (perSecond === 0) return '0/s';
  if (perSecond * 60 < 0.95) return `${(perSecond * 3600).toFixed(1)}/h`;
  if (perSecond < 1) return `${(perSecond * 60).toFixed(1)}/min`;
  return `${perSecond.toFixed(perSecond < 10 ? 2 : 0)}/s`;
}

/** A sample's time of day, for "updated at". */
export function formatClock(at: number): string {
  return new Date(at).toLocaleTimeString('en-GB', { hour12: false });
}
