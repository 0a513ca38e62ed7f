import type { RecordedEvent } from '../../domain/ports/event-store.js';
import { pendingApprovalQueries, pendingApprovalsProjection } from '../../projections/index.js';
import type { AuthPrincipal, GatehouseServices } from '../context.js';
import { fromPending, maySeeApproval } from '../readers/approvals.js';
import type { ApprovalChange } from '../types/approval.js';
import { liveFeed } from './feed.js';
import { sharedFeeds } from './shared-feeds.js';

const APPROVAL_EVENTS = ['ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied', 'ApprovalEscalated', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalAutoApproved'];
const RUN_ENDS = ['RunCompleted', 'RunFailed', 'RunCancelled'];

interface Seen {
  readonly runId: string;
  readonly requester: { id: string };
  readonly eligibleRoles: readonly string[];
}

/**
 * Changes to open approvals from now on, as the pending-approvals read model has applied them,
 * narrowed to what `principal` may see. A run that ends closes its open requests too.
 */
export function approvalsFeed(services: GatehouseServices, principal: AuthPrincipal): AsyncIterableIterator<ApprovalChange> {
  const read = () => services.projections.read(pendingApprovalsProjection);
  // Requests open now, so that a run's end can name the ones it closes.
  const open = new Map<string, Seen>();
  for (const a of read().approvals.values()) open.set(a.approvalId, { runId: a.runId, requester: a.requester, eligibleRoles: a.eligibleRoles });
  const subscription = sharedFeeds(services.store).all({ streamPrefix: ['run-'], eventTypes: [...APPROVAL_EVENTS, ...RUN_ENDS] });

  const changes = async (event: RecordedEvent): Promise<ApprovalChange[]> => {
    await services.projections.waitFor(event.position, 10_000, [pendingApprovalsProjection.name]);
    const runId = event.metadata.correlationId;
    if (RUN_ENDS.includes(event.type)) {
      const closed = [...open.entries()].filter(([, s]) => s.runId === runId);
      for (const [id] of closed) open.delete(id);
      return closed.filter(([, s]) => maySeeApproval(principal, s)).map(([approvalId]) => ({ kind: 'CLOSED' as ApprovalChange['kind'], eventType: event.type, approvalId, runId, position: event.position }));
    }
    const approvalId = (event.data as { approvalId: string }).approvalId;
    const doc = pendingApprovalQueries.get(read(), approvalId);
    const seen: Seen | undefined = doc ? { runId, requester: doc.requester, eligibleRoles: [...doc.eligibleRoles] } : open.get(approvalId);
    if (doc) open.set(approvalId, seen as Seen);
    else open.delete(approvalId);
    if (!seen || !maySeeApproval(principal, seen)) return [];
    const kind = !doc ? 'CLOSED' : event.type === 'ApprovalRequested' ? 'REQUESTED' : 'UPDATED';
    return [{ kind: kind as ApprovalChange['kind'], eventType: event.type, approvalId, runId, position: event.position, approval: doc ? fromPending(doc, services.now()) : undefined }];
  };

  // One event may close several requests: queue them and hand them out one at a time.
  const queue: ApprovalChange[] = [];
  const feed = liveFeed(subscription, async (event) => {
    queue.push(...(await changes(event)));
    return queue.shift();
  });
  const iterator: AsyncIterableIterator<ApprovalChange> = {
    next: async () => {
      const queued = queue.shift();
      return queued ? { done: false, value: queued } : feed.next();
    },
    return: () => feed.return?.() ?? Promise.resolve({ done: true, value: undefined }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
