import { type EventStore, WrongExpectedRevisionError } from '../domain/ports/event-store.js';
import type { NotificationChannel } from '../domain/ports/notifier.js';
import type { NotificationsConfig } from '../domain/notifications/config.js';
import { notifyStreamId } from '../domain/notifications/events.js';
import { composeMessage, type MessageFacts } from '../domain/notifications/message.js';
import { dueDeliveries, type DeliveryState, retryDelayMs, scrubError } from '../domain/notifications/record.js';
import { findGate, gateStatusOf } from '../domain/run/state.js';
import type { Clock } from './clock.js';
import { expectedOf, loadRecord } from './notification-record.js';
import { loadRun } from './run-repository.js';

/** What sending needs: the log, the clock, the channels, and where links point. */
export interface SenderContext {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly config: NotificationsConfig;
  readonly channels: Readonly<Record<string, NotificationChannel>>;
  readonly publicUrl: string;
  readonly actor: string;
  /** Reports an error that has no caller (an append that failed after a send). */
  readonly report: (error: unknown) => void;
}

/**
 * Claims and launches every delivery of one approval that is due now. A claim is an append of
 * DeliveryAttempted at the record's expected revision: of two instances only one wins, and the
 * loser re-reads and finds it claimed. The send itself is not awaited (a slow receiver holds up
 * nothing else); its outcome is appended when it ends. Returns the sends it launched.
 */
export async function sendDue(ctx: SenderContext, approvalId: string): Promise<Array<Promise<void>>> {
  const launched: Array<Promise<void>> = [];
  for (let round = 0; round < 200; round++) {
    const record = await loadRecord(ctx.store, approvalId);
    const now = ctx.clock.now();
    const d = dueDeliveries(record, now)[0];
    if (!d || !record.runId) break;
    const append = (type: string, data: Record<string, unknown>) =>
      ctx.store.append(notifyStreamId(approvalId), [{ type, data: { key: d.key, channel: d.channel, ...data }, metadata: { correlationId: record.runId as string, actor: ctx.actor } }], { expectedRevision: expectedOf(record) });
    try {
      const run = await loadRun(ctx.store, record.runId);
      const found = findGate(run.state, approvalId);
      const open = found !== undefined && gateStatusOf(run.state, found.gate) === 'OPEN';
      const at = now.toISOString();
      if (!found || (d.trigger.kind !== 'outcome' && !open)) {
        await append('DeliverySkipped', { at, reason: 'the gate is closed' });
        continue;
      }
      if (d.attempts >= ctx.config.retry.attempts) {
        // The last claim's sender stopped before it recorded an outcome: no tries left.
        await append('DeliveryFailed', { attempt: d.attempts, at, error: 'no outcome recorded for the last attempt (its sender stopped)' });
        continue;
      }
      const attempt = d.attempts + 1;
      await append('DeliveryAttempted', { attempt, at, leaseUntil: new Date(now.getTime() + ctx.config.leaseMs).toISOString() });
      const g = found.gate;
      const facts: MessageFacts = {
        approvalId, runId: record.runId, tool: g.request.tool ?? found.step.tool, risk: g.request.risk, requester: g.request.requester.id,
        goal: run.state.goal, expiresAt: g.request.expiresAt, received: g.approvers.length, required: g.request.requiredApprovals, eligibleRoles: g.eligibleRoles,
      };
      launched.push(send(ctx, approvalId, record.runId, d, attempt, facts));
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) continue; // someone else wrote first: read again
      throw error;
    }
  }
  return launched;
}

async function send(ctx: SenderContext, approvalId: string, runId: string, d: DeliveryState, attempt: number, facts: MessageFacts): Promise<void> {
  const channel = ctx.channels[d.channel];
  const message = composeMessage(d.trigger, facts, d.key, d.principals, ctx.publicUrl, ctx.clock.now());
  let outcome: { type: string; data: Record<string, unknown> };
  try {
    if (!channel) throw new Error(`no channel "${d.channel}" is configured`);
    // The lease bounds the send: past it, another instance may try again.
    await channel.send(message, d.to, AbortSignal.timeout(ctx.config.leaseMs - 1_000));
    outcome = { type: 'Delivered', data: { attempt, at: ctx.clock.now().toISOString() } };
  } catch (error) {
    const secrets = channel ? await channel.secrets().catch(() => []) : [];
    const text = scrubError(error instanceof Error ? `${error.message}${causeOf(error)}` : String(error), secrets);
    const now = ctx.clock.now();
    outcome = attempt >= ctx.config.retry.attempts
      ? { type: 'DeliveryFailed', data: { attempt, at: now.toISOString(), error: text } }
      : { type: 'DeliveryAttemptFailed', data: { attempt, at: now.toISOString(), error: text, retryAt: new Date(now.getTime() + retryDelayMs(attempt, ctx.config.retry)).toISOString() } };
  }
  try {
    // The claim is this sender's; later events of the record (other deliveries) do not change that.
    await ctx.store.append(notifyStreamId(approvalId), [{ type: outcome.type, data: { key: d.key, channel: d.channel, ...outcome.data }, metadata: { correlationId: runId, actor: ctx.actor } }], { expectedRevision: 'stream_exists' });
  } catch (error) {
    ctx.report(error);
  }
}

/** fetch's "fetch failed" says why only in its cause (ECONNREFUSED …). */
function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `: ${cause.message}` : '';
}
