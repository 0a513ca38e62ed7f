/**
 * Time left on an approval, as the card shows it. Pure: `now` comes in, so the countdown is
 * tested without a clock and every card on a page ticks from the same instant.
 */
export interface TimeLeft {
  /** Milliseconds until expiry (0 once past). */
  readonly ms: number;
  readonly expired: boolean;
  /** "1 h 05 min", "4 min 09 s", "12 s", or "expired". */
  readonly text: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** How long until `expiresAt` (ISO) at `now` (ms since the epoch); "expired" at or past it. */
export function timeLeft(expiresAt: string, now: number): TimeLeft {
  const end = Date.parse(expiresAt);
  if (Number.isNaN(end)) return { ms: 0, expired: false, text: 'unknown' };
  const ms = end - now;
  if (ms <= 0) return { ms: 0, expired: true, text: 'expired' };
  // Round up: "1 s" is shown until the very last millisecond, never "0 s" before "expired".
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const text = h > 0 ? `${h} h ${pad(m)} min` : m > 0 ? `${m} min ${pad(s)} s` : `${s} s`;
  return { ms, expired: false, text };
}
