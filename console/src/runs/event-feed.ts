import type { Client as WsClient } from 'graphql-ws';

/** One event of a run as `runEvents` sends it (`data` only for those who may see payloads). */
export interface TraceEvent {
  readonly cursor: string;
  readonly id: string;
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly stage: string;
  readonly actor: string;
  readonly stepId?: string | null;
  readonly recordedAt: string;
  readonly hash?: string | null;
  readonly data?: unknown;
}

/** What the page has of a run's stream: its events in order, and where to resume. */
export interface FeedState {
  readonly events: readonly TraceEvent[];
  /** The cursor of the last event shown: a resumed subscription starts right after it. */
  readonly lastCursor?: string;
  /** Revisions run from 0 without a gap; -1 before the first. */
  readonly lastRevision: number;
}

/** A feed with nothing yet. */
export const emptyFeed: FeedState = { events: [], lastRevision: -1 };

/**
 * Adds an event. One already shown (a revision at or below the last) is dropped: a resumed
 * subscription starts after the last cursor, so this only guards against a race around a
 * reconnection; the stream's revisions are the identity of its events.
 */
export function receive(state: FeedState, event: TraceEvent): FeedState {
  if (event.revision <= state.lastRevision) return state;
  return { events: [...state.events, event], lastCursor: event.cursor, lastRevision: event.revision };
}

/** The subscription's variables: from the start, or right after the last event shown. */
export function resumeVariables(runId: string, state: FeedState): { runId: string; after: string | null } {
  return { runId, after: state.lastCursor ?? null };
}

/** Where the live trace is: subscribing, receiving, or waiting for the socket to come back. */
export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'error';

/** The part of graphql-ws's client the feed uses (a fake in tests). */
export type FeedSocket = Pick<WsClient, 'subscribe' | 'on'>;

/**
 * A run's live trace over graphql-ws that resumes with its last cursor. graphql-ws retries a
 * dropped socket by itself, but it re-sends a subscription with the variables it was first given
 * (`after` from the page's start), so the server would replay events already shown: on every
 * close this drops that subscription and subscribes again with the last cursor seen, and says
 * "reconnecting" until the socket is back.
 */
export function openRunFeed(options: {
  socket: FeedSocket;
  runId: string;
  query: string;
  onChange: (state: FeedState, status: FeedStatus, error?: string) => void;
}): () => void {
  const { socket, runId, query, onChange } = options;
  let state = emptyFeed;
  let status: FeedStatus = 'connecting';
  let stopped = false;
  let generation = 0;
  let release: (() => void) | undefined;
  const emit = (error?: string) => onChange(state, status, error);

  const subscribe = () => {
    const mine = ++generation;
    release?.();
    release = socket.subscribe<{ runEvents: TraceEvent }>({ query, variables: resumeVariables(runId, state) }, {
      next: (message) => {
        if (mine !== generation || stopped) return;
        const event = message.data?.runEvents;
        if (message.errors?.length) {
          status = 'error';
          return emit(message.errors.map((e) => e.message).join('; '));
        }
        if (!event) return;
        state = receive(state, event);
        status = 'live';
        emit();
      },
      error: (error) => {
        if (mine !== generation || stopped) return;
        status = 'error';
        emit(errorText(error));
      },
      complete: () => {
        if (mine !== generation || stopped) return;
        status = 'ended';
        emit();
      },
    });
  };

  const offClosed = socket.on('closed', () => {
    if (stopped || status === 'error' || status === 'ended') return;
    status = 'reconnecting';
    emit();
    subscribe();
  });
  const offConnected = socket.on('connected', () => {
    if (stopped || status !== 'reconnecting') return;
    status = 'live';
    emit();
  });
  subscribe();
  emit();
  return () => {
    stopped = true;
    offClosed();
    offConnected();
    release?.();
  };
}

function errorText(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'reason' in error) return `connection closed: ${String((error as { reason: unknown }).reason) || (error as { code?: number }).code}`;
  return String(error);
}
