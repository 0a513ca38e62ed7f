import { GENESIS_HASH } from '../domain/audit/chain.js';
import { DomainError } from '../domain/errors.js';
import type { AuditSigner } from '../domain/ports/audit-signer.js';
import { type EventStore, WrongExpectedRevisionError } from '../domain/ports/event-store.js';
import type { RunCommand } from '../domain/run/commands.js';
import { initialRunState, type RunState, runStreamId } from '../domain/run/state.js';
import { appendSigning } from './audit-signing.js';
import { stopIfEnded } from './call-launcher.js';
import type { ReportError } from './engine-errors.js';
import type { PendingLimits } from './pending-limits.js';
import type { Plan, Planner, StartedCall } from './planner.js';
import type { RunChanges } from './run-changes.js';
import type { RunHandle } from './run-handles.js';
import { catchUpRun, loadRun, toAppend } from './run-repository.js';

/** What the command path needs: the log, the planner, and what follows an append. */
export interface CommandPathOptions {
  readonly store: EventStore;
  readonly planner: Planner;
  readonly limits: PendingLimits | undefined;
  readonly chain: boolean;
  readonly signer: AuditSigner | undefined;
  readonly policyVersion: string;
  /** Recorded in the metadata of every event appended here (which instance decided it). */
  readonly instanceId: string | undefined;
  readonly maxConflictRetries: number;
  readonly changes: RunChanges;
  readonly report: ReportError;
  readonly now: () => string;
  /** Whether a run may be looked at again after a refusal (a driving engine that is not closed). */
  readonly mayKick: () => boolean;
  readonly kick: (runId: string) => void;
  readonly launch: (runId: string, handle: RunHandle, call: StartedCall) => void;
  readonly consult: (runId: string, state: RunState, approvalId: string) => void;
  readonly schedule: (runId: string, handle: RunHandle, at: string | undefined) => void;
}

/**
 * Read, decide, append with the expected revision: a lost race is re-read and decided again, a
 * refusal decided on a cached state is confirmed against the log before it is returned.
 */
export class CommandPath {
  constructor(private readonly options: CommandPathOptions) {}

  /** Applies commands to a run (whose queue the caller holds) and drives it as far as it goes, in one append. */
  async executeNow(runId: string, handle: RunHandle, commands: readonly RunCommand[], actor: string): Promise<RunState> {
    const { store, planner, limits, chain, signer, maxConflictRetries } = this.options;
    for (let attempt = 0; ; attempt++) {
      // Decided on what was held, not on what this attempt reads from the log.
      const cached = handle.revision !== -2 && !handle.behind;
      let read = false;
      if (handle.revision === -2 && attempt === 0 && commands[0]?.type === 'StartRun') {
        // A new run: skip the read; if the stream exists after all, the append's no_stream
        // expectation fails and the retry below reads it and refuses the start.
        handle.state = initialRunState();
        handle.revision = -1;
        handle.lastHash = undefined;
      } else if (handle.revision === -2) {
        const loaded = await loadRun(store, runId);
        handle.state = loaded.state;
        handle.revision = loaded.revision;
        handle.lastHash = loaded.lastHash;
        handle.behind = false;
        read = true;
      } else if (handle.behind) {
        // What is held is the fold up to `revision`: others only ever add after it, so read just that.
        const caught = await catchUpRun(store, runId, handle);
        handle.state = caught.state;
        handle.revision = caught.revision;
        handle.lastHash = caught.lastHash;
        handle.behind = false;
        read = true;
      }
      let plan: Plan;
      try {
        plan = planner.plan(runId, handle.state, commands, actor);
      } catch (error) {
        // A refusal decided on a cached state may be stale (another process moved the run on):
        // confirm it against the log before returning it.
        if (error instanceof DomainError && cached && attempt < maxConflictRetries) {
          handle.behind = true;
          continue;
        }
        // The refusal stands, but the state it was decided on was just read from the log: the
        // engine now holds whatever others appended (another process's ApprovalGranted, say)
        // without having decided what that makes due, and the follower will not wake it for those
        // events any more (they are no longer newer than what it holds). Look at the run again now.
        // Only after a caller's commands: a kick that fails on a fresh read does not kick itself.
        // A run with no stream has nothing to look at (a command naming a made-up id).
        if (read && handle.revision >= 0 && commands.length > 0 && this.options.mayKick()) this.options.kick(runId);
        throw error;
      }
      if (plan.events.length === 0) {
        stopIfEnded(handle); // the run may have ended elsewhere (a foreign RunCancelled, say)
        this.options.schedule(runId, handle, plan.wakeAt);
        for (const approvalId of plan.consults) this.options.consult(runId, handle.state, approvalId);
        return handle.state;
      }
      // Gates left open take their requester's slots first (a refused start appends nothing).
      let slots: Awaited<ReturnType<PendingLimits['admit']>>['slots'] = [];
      if (limits) {
        const starting = commands.some((c) => c.type === 'StartRun');
        ({ plan, slots } = await limits.admit(runId, plan, starting, (denied) => planner.plan(runId, handle.state, commands, actor, denied)));
      }
      const before = handle.state;
      try {
        const signing = chain && signer ? appendSigning(signer, this.options.policyVersion, plan.state, plan.events, this.options.now()) : undefined;
        const result = await store.append(runStreamId(runId), toAppend(runId, plan.events, plan.actors, signing?.fields, this.options.instanceId), {
          expectedRevision: handle.revision < 0 ? 'no_stream' : handle.revision,
          ...(chain ? { chain: { previousHash: handle.lastHash ?? GENESIS_HASH, sign: signing?.sign } } : {}),
        });
        handle.revision = result.nextExpectedRevision;
        handle.lastHash = result.lastHash;
        handle.state = plan.state;
      } catch (error) {
        // The gates were not recorded: their slots back nothing (if this fails, the grace frees them).
        if (limits && slots.length > 0 && before.requestedBy) {
          await limits.abandon(before.requestedBy.id, slots).catch((e: unknown) => this.options.report(e, { runId, what: 'pending-slots', requesterId: before.requestedBy?.id }));
        }
        if (error instanceof WrongExpectedRevisionError && attempt < maxConflictRetries) {
          handle.behind = true; // someone else appended: read what they added and decide again
          continue;
        }
        throw error;
      }
      this.afterAppend(runId, handle, before, plan);
      return handle.state;
    }
  }

  /** What follows an append, in this order: ended calls stopped, slots settled, calls launched, gates consulted, wake-up armed. People are told by the notification dispatcher, which follows the log. */
  private afterAppend(runId: string, handle: RunHandle, before: RunState, plan: Plan): void {
    const { limits } = this.options;
    stopIfEnded(handle);
    limits?.afterAppend(before, plan.events);
    for (const call of plan.calls) this.options.launch(runId, handle, call);
    for (const approvalId of plan.consults) this.options.consult(runId, handle.state, approvalId);
    this.options.schedule(runId, handle, plan.wakeAt);
    this.options.changes.emit(runId, handle.state);
  }
}
