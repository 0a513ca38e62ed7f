import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEventData } from '../domain/events/index.js';
import { type EventStore, type Position, type RecordedEvent, StoreClosedError, type Subscription } from '../domain/ports/event-store.js';
import { backoffMs, FollowerHealth, pause } from '../following/health.js';
import type { ProjectionRunner } from '../projections/index.js';

const FOLLOWED = [
  'ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalAutoApproved',
  'ToolCallStarted', 'ToolCallSucceeded', 'ToolCallFailed', 'RunCompleted', 'RunFailed', 'RunCancelled',
  'Delivered', 'DeliveryAttemptFailed', 'DeliveryFailed', 'DeliverySkipped',
];

/** A notification outcome event and the `outcome` label it counts under. */
const NOTIFICATION_OUTCOMES: Record<string, string> = { Delivered: 'delivered', DeliveryAttemptFailed: 'retried', DeliveryFailed: 'failed', DeliverySkipped: 'skipped' };

/** Prometheus metrics of one server, fed by following the log from now on. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts a GraphQL operation (from the HTTP layer). */
  operation(kind: string, ok: boolean): void;
  /** Counts an error that had no caller to return to (engine, followers, projections). */
  error(what: string, code: string): void;
  render(): Promise<{ contentType: string; body: string }>;
  /** What the follower holds: open approvals and calls in flight (open work, never history). */
  held(): { approvals: number; calls: number };
  close(): Promise<void>;
}

/** The name the metrics follower reports its health under. */
export const METRICS_FOLLOWER = 'metrics';

/**
 * The registry and its follower of the log. `health` is where every follower's state is kept
 * (shown as gatehouse_follower_stalled_seconds); `onFollowError` hears of each failed subscription.
 */
export function createMetrics(
  store: EventStore,
  projections: ProjectionRunner,
  health: FollowerHealth = new FollowerHealth(),
  onFollowError: (error: unknown) => void = () => {},
): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_process_' });
  const approvals = new Counter({ name: 'gatehouse_approval_requests_total', help: 'Approval requests by risk level', labelNames: ['risk'], registers: [registry] });
  const approvalWait = new Histogram({
    name: 'gatehouse_approval_wait_seconds', help: 'Time from an approval request to its first decision', labelNames: ['outcome'],
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200], registers: [registry],
  });
  const toolCalls = new Histogram({
    name: 'gatehouse_tool_call_duration_seconds', help: 'Tool call durations by tool and outcome', labelNames: ['tool', 'outcome'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  const runs = new Counter({ name: 'gatehouse_runs_total', help: 'Finished runs by outcome', labelNames: ['outcome'], registers: [registry] });
  const errors = new Counter({ name: 'gatehouse_engine_errors_total', help: 'Errors with no caller to return to, by what failed and error code', labelNames: ['what', 'code'], registers: [registry] });
  const notifications = new Counter({
    name: 'gatehouse_notifications_total', help: 'Notification attempts by channel and outcome (delivered, retried, failed, skipped), from the delivery records in the log',
    labelNames: ['channel', 'outcome'], registers: [registry],
  });
  const operations = new Counter({ name: 'gatehouse_graphql_operations_total', help: 'GraphQL operations over HTTP', labelNames: ['kind', 'outcome'], registers: [registry] });
  new Gauge({
    name: 'gatehouse_projection_lag_events', help: 'Events in the log a read model has not applied yet', labelNames: ['projection'], registers: [registry],
    async collect() {
      // A log that cannot be read must not take /metrics down with it: the gauge keeps its last value.
      const lags = await projections.lag().catch(() => []);
      for (const lag of lags) this.set({ projection: lag.name }, lag.eventsBehind);
    },
  });

  new Gauge({
    name: 'gatehouse_follower_stalled_seconds', help: 'How long a follower of the log has been stalled (its subscription failed and it has not caught up yet); 0 while live', labelNames: ['follower'], registers: [registry],
    collect() {
      for (const f of health.statuses()) this.set({ follower: f.name }, health.stalledSeconds(f.name));
    },
  });

  const requestedAt = new Map<string, number>();
  /** The approvals each unfinished run asked for: a run can end with a gate open, and nothing decides it after. */
  const approvalsOf = new Map<string, string[]>();
  const calls = new Map<string, string>();
  const ended = (run: string) => {
    for (const id of approvalsOf.get(run) ?? []) requestedAt.delete(id);
    approvalsOf.delete(run);
  };
  const observe = (e: RecordedEvent): void => {
    const at = e.recordedAt.getTime();
    const run = e.metadata.correlationId;
    switch (e.type) {
      case 'ApprovalRequested': {
        const d = e.data as RunEventData<'ApprovalRequested'>;
        approvals.inc({ risk: d.risk.level });
        requestedAt.set(d.approvalId, at);
        approvalsOf.set(run, [...(approvalsOf.get(run) ?? []), d.approvalId]);
        break;
      }
      case 'ApprovalGranted': case 'ApprovalDenied': case 'ApprovalExpired': case 'ApprovalCancelled': case 'ApprovalAutoApproved': {
        const id = (e.data as { approvalId: string }).approvalId;
        const since = requestedAt.get(id);
        requestedAt.delete(id);
        if (since !== undefined) approvalWait.observe({ outcome: e.type.replace('Approval', '').toLowerCase() }, Math.max(0, at - since) / 1000);
        break;
      }
      case 'ToolCallStarted': {
        const d = e.data as RunEventData<'ToolCallStarted'>;
        calls.set(`${run}/${d.stepId}`, d.tool);
        break;
      }
      case 'ToolCallSucceeded': case 'ToolCallFailed': {
        const d = e.data as { stepId: string; durationMs: number };
        const tool = calls.get(`${run}/${d.stepId}`) ?? 'unknown';
        calls.delete(`${run}/${d.stepId}`);
        toolCalls.observe({ tool, outcome: e.type === 'ToolCallSucceeded' ? 'succeeded' : 'failed' }, d.durationMs / 1000);
        break;
      }
      case 'RunCompleted':
        runs.inc({ outcome: (e.data as RunEventData<'RunCompleted'>).status.toLowerCase() });
        ended(run);
        break;
      case 'RunFailed':
        runs.inc({ outcome: 'failed' });
        ended(run);
        break;
      case 'RunCancelled':
        runs.inc({ outcome: 'cancelled' });
        ended(run);
        break;
      case 'Delivered': case 'DeliveryAttemptFailed': case 'DeliveryFailed': case 'DeliverySkipped':
        notifications.inc({ channel: (e.data as { channel: string }).channel, outcome: NOTIFICATION_OUTCOMES[e.type] ?? e.type });
        break;
    }
  };

  // Counts what happens from now on; after a failed subscription it catches up from the last event
  // it saw (reads), then subscribes again, so an outage loses no count.
  const filter = { streamPrefix: ['run-', 'notify-'], eventTypes: FOLLOWED };
  const stop = new AbortController();
  let subscription: Subscription | undefined;
  const loop = (async () => {
    let cursor: Position | undefined;
    let fromEnd = true;
    for (let attempt = 0; !stop.signal.aborted; ) {
      try {
        if (fromEnd) {
          cursor = await store.headPosition();
          fromEnd = false;
        } else if (attempt > 0) {
          for (;;) {
            const page = await store.readAll({ after: cursor, maxCount: 1_000, filter });
            for (const e of page) observe(e);
            cursor = page.at(-1)?.position ?? cursor;
            if (page.length < 1_000) break;
          }
        }
        subscription = store.subscribeToAll({ after: cursor, filter });
        if (stop.signal.aborted) {
          await subscription.close();
          break;
        }
        health.live(METRICS_FOLLOWER);
        attempt = 0;
        for await (const e of subscription) {
          observe(e);
          cursor = e.position;
        }
        if (stop.signal.aborted) break;
        throw new Error('the subscription to $all ended');
      } catch (error) {
        if (stop.signal.aborted) break;
        onFollowError(error);
        health.stalled(METRICS_FOLLOWER, error);
        if (error instanceof StoreClosedError) break; // closed by its owner: nothing to come back to
        await pause(backoffMs(attempt++), stop.signal);
      }
    }
  })();

  return {
    registry,
    operation: (kind, ok) => operations.inc({ kind, outcome: ok ? 'ok' : 'error' }),
    error: (what, code) => errors.inc({ what, code }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    held: () => ({ approvals: Math.max(requestedAt.size, approvalsOf.size), calls: calls.size }),
    close: async () => {
      stop.abort();
      await subscription?.close();
      await loop;
    },
  };
}
