import { timeLeft } from './countdown';
import { useNow } from './hooks';

/** A live countdown to `expiresAt`, re-rendered each second; "expired" once past. */
export function Countdown(props: { expiresAt: string }) {
  const left = timeLeft(props.expiresAt, useNow());
  return (
    <time dateTime={props.expiresAt} className={left.expired ? 'expired' : undefined} data-testid="countdown" title={new Date(props.expiresAt).toLocaleString()}>
      {left.text}
    </time>
  );
}
