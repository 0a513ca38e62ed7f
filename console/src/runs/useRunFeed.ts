import { useEffect, useState } from 'react';
import { useSession } from '../auth/SessionContext';
import { emptyFeed, type FeedState, type FeedStatus, openRunFeed } from './event-feed';
import { RUN_EVENTS_SUBSCRIPTION, RUN_EVENTS_WITH_DATA_SUBSCRIPTION } from './queries';

/**
 * A run's live trace for a component: `openRunFeed` over the session's raw graphql-ws client (not
 * urql, whose subscription exchange cannot change a subscription's variables on a reconnect).
 * `withData` asks for payloads, which the API refuses to viewers.
 */
export function useRunFeed(runId: string, withData: boolean): { feed: FeedState; status: FeedStatus; error?: string } {
  const { client } = useSession();
  const [view, setView] = useState<{ feed: FeedState; status: FeedStatus; error?: string }>({ feed: emptyFeed, status: 'connecting' });
  useEffect(() => {
    setView({ feed: emptyFeed, status: 'connecting' });
    return openRunFeed({
      socket: client.ws,
      runId,
      query: withData ? RUN_EVENTS_WITH_DATA_SUBSCRIPTION : RUN_EVENTS_SUBSCRIPTION,
      onChange: (feed, status, error) => setView({ feed, status, ...(error ? { error } : {}) }),
    });
  }, [client, runId, withData]);
  return view;
}
