import { eventTypeFilter, excludeSystemEvents, type Filter, streamNameFilter } from '@eventstore/db-client';
import type { AllFilter } from '../../../domain/ports/event-store.js';
import { matchesFilter } from '../shared/reading.js';
import type { Namespace } from './namespace.js';

/** Events EventStoreDB writes itself: `$`-streams (`$ce-`, `$$meta`, `$users`) and `$`-types (`$>`, `$streamDeleted`). */
export function isSystemEvent(streamId: string, type: string): boolean {
  return streamId.startsWith('$') || type.startsWith('$');
}

/**
 * The one filter the server can apply to a subscription (it takes a single stream-name or
 * event-type expression): event types when given (an exact-match regex, which also drops `$`
 * types), else stream prefixes, else `excludeSystemEvents`. Whatever it cannot express is
 * checked again on our side by `keeps`, so the server filter only has to be a superset.
 */
export function serverFilter(filter: AllFilter | undefined, namespace: Namespace): Filter {
  if (namespace.prefix !== '') {
    // An empty prefix list is left to our side: how a server reads one is not worth betting on.
    const prefixes = filter?.streamPrefix?.length ? filter.streamPrefix : [''];
    return streamNameFilter({ prefixes: prefixes.map((p) => namespace.prefix + p) });
  }
  if (filter?.eventTypes) {
    const alternatives = filter.eventTypes.map(escapeRegex).join('|');
    // An empty list matches nothing, as the port says; `(?!)` never matches.
    return eventTypeFilter({ regex: filter.eventTypes.length === 0 ? '(?!)' : `^(?:${alternatives})$` });
  }
  if (filter?.streamPrefix?.length) return streamNameFilter({ prefixes: [...filter.streamPrefix] });
  return excludeSystemEvents();
}

/** The full check, on our side, of one event of `$all` (stream id as the application names it). */
export function keeps(streamId: string, type: string, filter: AllFilter | undefined): boolean {
  return !isSystemEvent(streamId, type) && matchesFilter({ streamId, type }, filter);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
