import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createEsdbEventStore } from '../adapters/eventstore/esdb/esdb-event-store.js';
import { createSqliteEventStore } from '../adapters/eventstore/sqlite/sqlite-event-store.js';
import { AUDIT_PUBLIC_KEY_FILE } from '../adapters/audit/ed25519-keys.js';
import { verifyStream } from '../domain/audit/verify.js';
import { stageOf, type RunEventType } from '../domain/events/index.js';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.js';
import { exportRun, verifyExport } from '../orchestrator/audit-export.js';
import { type ServerEnv, sqliteStorePath } from '../server/env.js';
import { CliError } from './graphql-client.js';

/** The store the server uses with this environment (SQLite in the data folder, or EventStoreDB). */
export function openStore(env: Pick<ServerEnv, 'dataDir' | 'eventStore'>): EventStore {
  const shared = sqliteStorePath(env.eventStore);
  if (env.eventStore && !shared) return createEsdbEventStore({ connectionString: env.eventStore });
  const path = shared ?? join(env.dataDir, 'gatehouse.sqlite');
  try {
    statSync(path);
  } catch {
    throw new CliError(`no Gatehouse store at ${path} (set GATEHOUSE_DATA_DIR or --data-dir)`);
  }
  return createSqliteEventStore({ path });
}

export async function withStore<T>(env: Pick<ServerEnv, 'dataDir' | 'eventStore'>, use: (store: EventStore) => Promise<T>): Promise<T> {
  const store = openStore(env);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** One line of a run's timeline: what happened, when, in which stage, by whom. */
export function timeline(events: readonly RecordedEvent[]) {
  return events.map((e) => ({
    rev: e.revision,
    time: e.recordedAt.toISOString(),
    stage: stageOf(e.type as RunEventType),
    actor: e.metadata.actor,
    event: e.type,
    summary: summarize(e),
  }));
}

function summarize(e: RecordedEvent): string {
  const d = e.data as Record<string, any>;
  switch (e.type) {
    case 'RunStarted': return `"${d.goal}" profile ${d.profile}, ${d.errorStrategy}`;
    case 'PlanCreated': return `${d.steps.length} steps: ${d.steps.map((s: { id: string; tool: string }) => `${s.id}(${s.tool})`).join(', ')}`;
    case 'StepRouted': return `${d.stepId} → ${d.worker} (${d.policy})`;
    case 'ApprovalRequested': return `${d.stepId}: ${d.risk.level} risk, ${d.reviewLevel}, ${d.requiredApprovals} of ${d.eligibleRoles.join('/')}`;
    case 'ApprovalGranted': return `${d.stepId}: granted by ${d.approver.id} (${d.approver.role})${d.justification ? `: ${d.justification}` : ''}${d.editedInput ? ' with edited input' : ''}`;
    case 'ApprovalDenied': return `${d.stepId}: denied by ${d.approver.id}${d.justification ? `: ${d.justification}` : ''}`;
    case 'ApprovalAutoApproved': return `${d.stepId}: approved by ${d.approver} (${d.rule})`;
    case 'ApprovalEscalated': return `${d.stepId}: to ${d.toRoles.join(', ')} by ${d.by.id}${d.reason ? `: ${d.reason}` : ''}`;
    case 'ApprovalExpired': return `${d.stepId}: expired, ${d.outcome}`;
    case 'ApprovalCancelled': return `${d.stepId}: cancelled by ${d.by.id}`;
    case 'ApproverConsultationStarted': return `${d.stepId}: automated approvers asked by ${d.instance} until ${d.leaseUntil}`;
    case 'ToolCallStarted': return `${d.stepId} attempt ${d.attempt} on ${d.worker}${d.recovered ? ' (recovered)' : ''}`;
    case 'ToolCallSucceeded': return `${d.stepId} attempt ${d.attempt} ok in ${d.durationMs} ms`;
    case 'ToolCallFailed': return `${d.stepId} attempt ${d.attempt} ${d.failureMode}: ${d.error.message}${d.retryAt ? `, retry at ${d.retryAt}` : ''}`;
    case 'StepSkipped': return `${d.stepId}: ${d.reason}`;
    case 'BudgetWarning': return `${d.scope.kind}${d.scope.key ? ` ${d.scope.key}` : ''} at ${d.percent} %`;
    case 'BudgetExceeded': return `${d.scope.kind}${d.scope.key ? ` ${d.scope.key}` : ''} ${d.used}/${d.limit}, ${d.action}`;
    case 'RunAggregated': return `${d.completedSteps.length} completed, ${d.failedSteps.length} failed, ${d.skippedSteps.length} skipped`;
    case 'RunCompleted': return d.status;
    case 'RunFailed': return `${d.failureMode ?? ''} ${d.error.message}`.trim();
    case 'RunCancelled': return `by ${d.by.id}${d.reason ? `: ${d.reason}` : ''}`;
    case 'RunResumed': return `by ${d.by.id}${d.reason ? `: ${d.reason}` : ''}`;
    default: return '';
  }
}

/** The audit public key of this data folder, if the server made one. */
export function localPublicKey(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, AUDIT_PUBLIC_KEY_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

export { exportRun, verifyExport, verifyStream };
