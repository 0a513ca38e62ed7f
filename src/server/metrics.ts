import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RunEventData } from '../domain/events/index.js';
import type { EventStore, Subscription } from '../domain/ports/event-store.js';
import type { ProjectionRunner } from '../projections/index.js';

const FOLLOWED = [
  'ApprovalRequested', 'ApprovalGranted', 'ApprovalDenied', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalAutoApproved',
  'ToolCallStarted', 'ToolCallSucceeded', 'ToolCallFailed', 'RunCompleted', 'RunFailed', 'RunCancelled',
];

/** Prometheus metrics of one server, fed by following the log from now on. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts a GraphQL operation (from the HTTP layer). */
  operation(kind: string, ok: boolean): void;
  /** Counts an error that had no caller to return to (engine, followers, projections). */
  error(what: string, code: string): void;
  render(): Promise<{ contentType: string; body: string }>;
  close(): Promise<void>;
}

export function createMetrics(store: EventStore, projections: ProjectionRunner): ServerMetrics {
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
  const operations = new Counter({ name: 'gatehouse_graphql_operations_total', help: 'GraphQL operations over HTTP', labelNames: ['kind', 'outcome'], registers: [registry] });
  new Gauge({
    name: 'gatehouse_projection_lag_events', help: 'Events in the log a read model has not applied yet', labelNames: ['projection'], registers: [registry],
    async collect() {
      // A log that cannot be read must not take /metrics down with it: the gauge keeps its last value.
      const lags = await projections.lag().catch(() => []);
      for (const lag of lags) this.set({ projection: lag.name }, lag.eventsBehind);
    },
  });

  const requestedAt = new Map<string, number>();
  const calls = new Map<string, string>();
  const subscription: Subscription = store.subscribeToAll({ after: 'end', filter: { streamPrefix: ['run-'], eventTypes: FOLLOWED } });
  const loop = (async () => {
    for await (const e of subscription) {
      const at = e.recordedAt.getTime();
      const run = e.metadata.correlationId;
      switch (e.type) {
        case 'ApprovalRequested': {
          const d = e.data as RunEventData<'ApprovalRequested'>;
          approvals.inc({ risk: d.risk.level });
          requestedAt.set(d.approvalId, at);
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
          break;
        case 'RunFailed':
          runs.inc({ outcome: 'failed' });
          break;
        case 'RunCancelled':
          runs.inc({ outcome: 'cancelled' });
          break;
      }
    }
  })().catch(() => undefined); // the store closed under us: metrics stop, the server goes on

  return {
    registry,
    operation: (kind, ok) => operations.inc({ kind, outcome: ok ? 'ok' : 'error' }),
    error: (what, code) => errors.inc({ what, code }),
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    close: async () => {
      await subscription.close();
      await loop;
    },
  };
}
