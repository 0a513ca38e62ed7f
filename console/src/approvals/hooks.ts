import { useEffect, useRef, useState } from 'react';
import { useSession } from '../auth/SessionContext';
import { APPROVALS_CHANGED, type ApprovalsChangedData } from './queries';

/** The current time, re-read every `everyMs` (the countdowns tick from it). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * Every `approvalsChanged` payload, one call each (urql's `useSubscription` hook folds payloads
 * into one state, so two quick changes could show as one), and a call with `undefined` each time
 * the WebSocket is connected: the subscription replays nothing, so a change made between the
 * list's first read and the subscription's start, or while the socket was down, is only seen by
 * reading the list again then.
 */
export function useApprovalChanges(onChange: (change: ApprovalsChangedData['approvalsChanged'] | undefined) => void): void {
  const { client, connection } = useSession();
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    const { unsubscribe } = client.urql.subscription<ApprovalsChangedData>(APPROVALS_CHANGED, {}).subscribe((result) => {
      if (result.data) latest.current(result.data.approvalsChanged);
    });
    return unsubscribe;
  }, [client]);
  useEffect(() => {
    if (connection === 'connected') latest.current(undefined);
  }, [connection]);
}
