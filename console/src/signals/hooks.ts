import { useEffect, useState } from 'react';
import { type CombinedError, useQuery, useSubscription } from 'urql';
import { APPROVALS_CHANGED_SUBSCRIPTION, SIGNALS_QUERY, type SignalsData } from './queries';
import { appendSample, type Sample } from './series';

/** How often the open signals page asks again (see series.ts for why it samples). */
export const SAMPLE_EVERY_MS = 3_000;

/**
 * Calls `refresh` every `ms` while the component is mounted and its tab is visible: a console
 * left open in a background tab should not keep querying the server (it catches up on return).
 */
export function useEvery(ms: number, refresh: () => void): void {
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') refresh();
    }, ms);
    const back = () => {
      if (document.visibilityState === 'visible') refresh();
    };
    document.addEventListener('visibilitychange', back);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', back);
    };
  }, [ms, refresh]);
}

/**
 * The golden signals of `scope`, sampled every {@link SAMPLE_EVERY_MS} and at once when an approval
 * changes (approvals move the approval-wait percentiles; a run that finishes moves the rest within
 * one tick, since no API event announces every run's end). The series lives in memory only: it is
 * "what moved while this page was open", and restarts with the scope.
 */
export function useSignalSamples(scope: string): { series: readonly Sample[]; latest?: SignalsData; error?: CombinedError; fetching: boolean } {
  const [result, reexecute] = useQuery<SignalsData>({ query: SIGNALS_QUERY, variables: { scope }, requestPolicy: 'network-only' });
  const [held, setHeld] = useState<{ scope: string; series: readonly Sample[] }>({ scope, series: [] });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  useEvery(SAMPLE_EVERY_MS, reexecute as () => void);
  const [change] = useSubscription({ query: APPROVALS_CHANGED_SUBSCRIPTION });

  useEffect(() => {
    if (change.data) refresh();
  }, [change.data]);

  useEffect(() => {
    const data = result.data;
    // an answer for the previous scope (still in flight when the scope changed) is not this series'
    if (!data || data.all.scope !== scope) return;
    setHeld((h) => ({ scope, series: appendSample(h.scope === scope ? h.series : [], { at: Date.now(), signals: data }) }));
  }, [result.data, scope]);

  const series = held.scope === scope ? held.series : [];
  const latest = series.at(-1)?.signals;
  return { series, fetching: result.fetching, ...(latest ? { latest } : {}), ...(result.error ? { error: result.error } : {}) };
}

/** The server's message for a failed query, and whether it was NOT_FOUND (an empty state, not an error). */
export function describeError(error: CombinedError): { notFound: boolean; message: string } {
  const first = error.graphQLErrors[0];
  if (first) return { notFound: first.extensions?.code === 'NOT_FOUND', message: first.message };
  return { notFound: false, message: error.networkError ? `The server cannot be reached (${error.networkError.message}).` : error.message };
}
