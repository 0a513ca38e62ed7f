import { randomUUID } from 'node:crypto';
import type { EventStore } from '../domain/ports/event-store.js';
import type { RunIndexStore } from '../domain/ports/run-index.js';
import type { Approver } from '../domain/ports/approver.js';
import { type ApprovalPolicyConfig, maxPendingOf } from '../domain/approvals/policy-config.js';
import type { AuditSigner } from '../domain/ports/audit-signer.js';
import type { SecretProvider } from '../domain/ports/secrets.js';
import type { RunCommand } from '../domain/run/commands.js';
import { INTERRUPT_GRACE_MS } from '../domain/run/next-actions.js';
import type { RunState } from '../domain/run/state.js';
import { SensitiveKeys } from '../domain/secrets.js';
import type { FollowerHealth } from '../following/health.js';
import { ApproverConsultation } from './approver-consultation.js';
import { abortCalls, CallLauncher, ShutdownAbort } from './call-launcher.js';
import { type Clock, systemClock } from './clock.js';
import { CommandPath } from './command-path.js';
import { type EngineErrorContext, errorReporter, type ReportError } from './engine-errors.js';
import { Gatekeeper } from './gates.js';
import { InFlight } from './in-flight.js';
import { createMemoryRunIndex } from './memory-run-index.js';
import { PendingLimits } from './pending-limits.js';
import { ENGINE_ACTOR, Planner } from './planner.js';
import { defaultProfiles, defaultWorkers, type Profile, type WorkerConfig } from './profiles.js';
import { RunChanges } from './run-changes.js';
import { RunFollower } from './run-follower.js';
import { CallLoad, type WorkerInstanceLoad } from '../domain/routing/call-load.js';
import { RunHandles } from './run-handles.js';
import { loadRun } from './run-repository.js';
import { RunTimers } from './run-timers.js';
import { StepRouter } from './step-routing.js';
import { ToolInvoker } from './tool-invoker.js';
import type { ToolRegistry } from './tools/tool.js';

export type { EngineErrorContext } from './engine-errors.js';

/** The default SecretProvider: knows no secret (the composition root picks a real one). */
const NO_SECRETS: SecretProvider = { get: async () => undefined };

/** What a RunEngine is built from: the store and tools, and the adapters the composition root picks. */
export interface RunEngineOptions {
  readonly store: EventStore;
  readonly tools: ToolRegistry;
  readonly workers?: readonly WorkerConfig[];
  readonly profiles?: Readonly<Record<string, Profile>>;
  readonly clock?: Clock;
  /** Randomness for backoff jitter, in [0, 1). */
  readonly random?: () => number;
  /** How often a command is re-decided after losing an optimistic-concurrency race. Default 20. */
  readonly maxConflictRetries?: number;
  /** Where failures that have no caller to return to are reported (refused tool results included). */
  readonly onError?: (error: unknown, context: EngineErrorContext) => void;
  /**
   * Where `{ "$secret": "NAME" }` references are resolved. Default: none resolves (SECRET_NOT_FOUND);
   * the server passes `GATEHOUSE_SECRET_<NAME>` variables (createEnvSecrets).
   */
  readonly secrets?: SecretProvider;
  /** Key patterns redacted before anything is appended, besides the defaults (substrings or `/regex/`). */
  readonly sensitiveKeys?: readonly string[];
  /** Where the index of unfinished runs is kept between starts; default: in memory. */
  readonly runIndex?: RunIndexStore;
  /**
   * false: an API-only engine that decides and appends the commands it is given but never
   * executes tools nor drives runs (the engines that follow the log do). Default true.
   */
  readonly drive?: boolean;
  /** How long after a call's timeout it counts as interrupted. Default 2,000 ms. */
  readonly interruptGraceMs?: number;
  /** How often every unfinished, idle run is re-read and re-decided (0: never). Default 5,000 ms. */
  readonly reconcileEveryMs?: number;
  /**
   * The approval policy (risk rules, confidence, levels). Without one, only tools that declare an
   * `approval` are gated; the server passes the configured policy (DESIGN.md's defaults).
   */
  readonly approvalPolicy?: ApprovalPolicyConfig;
  /** Automated approvers consulted, in order, before humans on every non-AUTO gate. */
  readonly approvers?: readonly Approver[];
  /** Signs approval decisions (granted, denied, auto-approved, expired) with the server's audit key. */
  readonly signer?: AuditSigner;
  /** Hash-chain every event appended (DESIGN.md "Audit integrity"). Default true. */
  readonly chain?: boolean;
  /** How long a pending-approval slot whose gate never reached its run is held. Default 60,000 ms. */
  readonly pendingSlotGraceMs?: number;
  /** Where the follower of the log says whether it is live or stalled (for /healthz). */
  readonly followerHealth?: FollowerHealth;
  /**
   * This instance's id (GATEHOUSE_INSTANCE_ID): recorded as `instance` in the metadata of every event it
   * appends, and on the approver consultations it claims. Unset: no `instance` in metadata, and a
   * random id per engine for its consultation leases.
   */
  readonly instanceId?: string;
}

/**
 * Drives runs: asks the pure `nextActions` what is due, decides it, and appends every decision
 * that needs no I/O in one atomic append (a tool result, the next steps' routing and claims, the
 * completion), then runs the claimed tools. Work for one run is serialized through its queue;
 * other processes are kept honest by the expected revision of every append. This class only wires
 * the parts: the command path (command-path.ts), planning (planner.ts), routing (step-routing.ts),
 * calls (call-launcher.ts), automated approvers (approver-consultation.ts), timers (run-timers.ts).
 */
export class RunEngine {
  private readonly store: EventStore;
  private readonly profiles: Readonly<Record<string, Profile>>;
  private readonly clock: Clock;
  private readonly report: ReportError;
  private readonly runs: RunHandles;
  private readonly changes = new RunChanges();
  private readonly inFlight = new InFlight();
  /** Calls in flight across every instance on the store, folded from the log by the follower. */
  private readonly callLoad = new CallLoad();
  private readonly sensitive: SensitiveKeys;
  private readonly follower: RunFollower | undefined;
  private readonly drive: boolean;
  private readonly policy: ApprovalPolicyConfig | undefined;
  private readonly consultation: ApproverConsultation;
  private readonly commands: CommandPath;
  /** Per-requester pending-approval slots (with a policy: every role has a limit). */
  private readonly limits: PendingLimits | undefined;
  private draining = false;
  private closed = false;

  constructor(options: RunEngineOptions) {
    this.store = options.store;
    this.profiles = options.profiles ?? defaultProfiles;
    this.clock = options.clock ?? systemClock;
    this.report = errorReporter(options.onError ?? ((error, ctx) => console.error(`gatehouse engine: ${ctx.what} (run ${ctx.runId}):`, error)));
    this.sensitive = new SensitiveKeys(options.sensitiveKeys);
    this.drive = options.drive ?? true;
    this.runs = new RunHandles(this.drive);
    this.policy = options.approvalPolicy;
    const approvers = options.approvers ?? [];
    const gates = new Gatekeeper(this.policy, approvers.map((a) => a.name));
    const graceMs = options.interruptGraceMs ?? INTERRUPT_GRACE_MS;
    const policy = this.policy;
    this.limits = policy
      ? new PendingLimits({
          store: this.store,
          limitOf: (role) => maxPendingOf(policy, role),
          now: () => this.now(),
          graceMs: options.pendingSlotGraceMs,
          instanceId: options.instanceId,
          onError: (error, requesterId) => this.report(error, { runId: '*', what: 'pending-slots', requesterId }),
        })
      : undefined;
    const tools = options.tools;
    const router = new StepRouter({
      tools, workers: options.workers ?? defaultWorkers, profile: (name) => this.profile(name), gates, graceMs,
      callInFlight: (runId, stepId) => this.runs.get(runId)?.calls.has(stepId) ?? false,
      othersInFlight: (worker) => this.callLoad.inFlightOf(worker, options.instanceId),
    });
    // A consultation's lease: every approver's timeout, then the grace (a living instance answers by then).
    const leaseMs = approvers.reduce((sum, a) => sum + (a.timeoutMs ?? 0), 0) + graceMs;
    const consultation = { instance: options.instanceId ?? `engine-${randomUUID()}`, leaseMs };
    const planner = new Planner({ tools, gates, router, sensitive: this.sensitive, clock: this.clock, graceMs, driving: () => this.drive && !this.draining, consultation });
    const launcher = new CallLauncher({
      tools, router, clock: this.clock, random: options.random ?? Math.random, inFlight: this.inFlight, report: this.report,
      invoker: new ToolInvoker(options.secrets ?? NO_SECRETS, this.sensitive),
      isClosed: () => this.closed,
      execute: (runId, commands) => this.execute(runId, commands),
      kick: (runId) => this.kick(runId),
    });
    this.consultation = new ApproverConsultation({ approvers, inFlight: this.inFlight, report: this.report, execute: (runId, commands, actor) => this.execute(runId, commands, actor) });
    const timers = new RunTimers(this.clock, () => this.closed, (runId) => this.kick(runId));
    this.commands = new CommandPath({
      store: this.store, planner, limits: this.limits, chain: options.chain ?? true, signer: options.signer, policyVersion: gates.policyVersion, instanceId: options.instanceId,
      maxConflictRetries: options.maxConflictRetries ?? 20, changes: this.changes, report: this.report,
      now: () => this.now(),
      mayKick: () => this.drive && !this.closed,
      kick: (runId) => this.kick(runId),
      launch: (runId, handle, call) => launcher.launch(runId, handle, call),
      consult: (runId, state, approvalId) => this.consultation.consult(runId, state, approvalId),
      schedule: (runId, handle, at) => timers.schedule(runId, handle, at),
    });
    this.follower = this.drive
      ? new RunFollower(this.store, options.runIndex ?? createMemoryRunIndex(), this, (error) => this.report(error, { runId: '*', what: 'follow' }), 1_000, options.reconcileEveryMs ?? 5_000, options.followerHealth, {
          apply: (e) => this.callLoad.apply({ runId: e.streamId.slice('run-'.length), revision: e.revision, type: e.type, data: e.data, instance: e.metadata.instance }),
        })
      : undefined;
  }

  /**
   * Recovery: brings the index of unfinished runs up to date, continues each of them from its
   * stream (re-arming every timer the log implies), then follows the log for changes made
   * elsewhere. Returns the ids of the runs it recovered.
   */
  async start(): Promise<string[]> {
    return this.follower ? this.follower.start() : [];
  }

  /** Re-reads a run that is idle here and decides again (the follower's reconciliation sweep). */
  reconcile(runId: string): void {
    const handle = this.runs.get(runId);
    if (handle && (handle.pending > 0 || handle.calls.size > 0)) return; // busy: it will move on by itself
    this.kick(runId, Number.MAX_SAFE_INTEGER);
  }

  /** The revision of a run this engine already holds (its own appends included). */
  knownRevision(runId: string): number | undefined {
    const handle = this.runs.get(runId);
    return handle && handle.revision >= -1 ? handle.revision : undefined;
  }

  /** The last revision of a run this engine finished and let go of (the most recent runs only). */
  finishedRevision(runId: string): number | undefined {
    return this.runs.finishedRevision(runId);
  }

  /** Resolves once this engine's follower has applied the log up to its head now (at once for an API-only engine). */
  async caughtUp(): Promise<void> {
    if (this.follower) await this.follower.waitFor(await this.store.headPosition());
  }

  /** Calls in flight per worker and deciding instance, as this engine's follower has read them from the log. */
  workerLoad(): WorkerInstanceLoad[] {
    return this.callLoad.byWorker();
  }

  /** The approval policy in force, if any. */
  approvalPolicy(): ApprovalPolicyConfig | undefined {
    return this.policy;
  }

  /** The key patterns this engine redacts (the API uses them to refuse literal secrets). */
  sensitiveKeys(): SensitiveKeys {
    return this.sensitive;
  }

  /**
   * Graceful shutdown: takes no new work, lets calls in flight finish for up to `graceMs`, aborts
   * the rest (a non-idempotent one is recorded INTERRUPTED, never repeated; an idempotent one is
   * left claimed for the next engine to re-claim with the same key), then closes. The store stays
   * open: its owner closes it.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    const settled = this.inFlight.settled();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    for (const handle of this.runs.all()) abortCalls(handle, new ShutdownAbort());
    await this.inFlight.settled();
    await this.close();
  }

  /** The engine's notion of now, as an ISO instant (its Clock). */
  now(): string {
    return this.clock.now().toISOString();
  }

  /** The profile of that name, if this engine knows one. */
  profile(name: string): Profile | undefined {
    return Object.hasOwn(this.profiles, name) ? this.profiles[name] : undefined;
  }

  /**
   * Applies commands to a run and drives it as far as it goes without waiting, in one append.
   * Returns the state after it; a refused command throws its DomainError and appends nothing.
   */
  execute(runId: string, commands: readonly RunCommand[], actor = ENGINE_ACTOR, seenRevision?: number): Promise<RunState> {
    if (this.closed) return Promise.reject(new Error('the engine is closed'));
    const handle = this.runs.open(runId);
    handle.pending++;
    const result = handle.queue.then(() => {
      // The log has moved past what this engine holds: read what came after it before deciding.
      if (seenRevision !== undefined && handle.revision < seenRevision) handle.behind = true;
      return this.commands.executeNow(runId, handle, commands, actor);
    });
    handle.queue = result.catch(() => undefined).finally(() => {
      handle.pending--;
      this.runs.maybeForget(runId, handle);
    });
    return result;
  }

  /**
   * Looks at a run again (after a timer, a restart, or a change made elsewhere); `seenRevision`
   * is the newest revision of it someone saw in the log, so a stale copy is read again first.
   */
  kick(runId: string, seenRevision?: number): void {
    this.execute(runId, [], ENGINE_ACTOR, seenRevision).catch((error: unknown) => this.report(error, { runId, what: 'drive' }));
  }

  /** The run's state as this engine last saw it, or freshly folded from its stream. */
  async getState(runId: string): Promise<RunState> {
    const handle = this.runs.get(runId);
    if (handle && handle.revision >= 0) return handle.state;
    return (await loadRun(this.store, runId)).state;
  }

  /** Calls `listener` after every append this engine makes (for waiting in tests and the API). */
  onChange(listener: (runId: string, state: RunState) => void): () => void {
    return this.changes.onChange(listener);
  }

  /** Resolves with the run's state once `predicate` holds (checked now and after each append). */
  async waitFor(runId: string, predicate: (state: RunState) => boolean, timeoutMs = 10_000): Promise<RunState> {
    return this.changes.waitFor(runId, predicate, timeoutMs, () => this.getState(runId));
  }

  /** Stops timers and aborts calls in flight; the log keeps everything needed to go on later. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.follower?.close();
    await this.limits?.idle();
    this.consultation.abortAll();
    for (const handle of this.runs.all()) {
      if (handle.timer) clearTimeout(handle.timer);
      abortCalls(handle, new Error('engine shutting down'));
    }
    await Promise.allSettled([...this.runs.all()].map((h) => h.queue));
  }

}
