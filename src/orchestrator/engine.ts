import { createEnvSecrets } from '../adapters/secrets/env-secrets.js';
import { createMemoryRunIndex } from '../adapters/runindex/memory-run-index.js';
import { DomainError, errorCode } from '../domain/errors.js';
import type { RunEvent, RunEventData } from '../domain/events/index.js';
import { type EventStore, WrongExpectedRevisionError } from '../domain/ports/event-store.js';
import type { RunIndexStore } from '../domain/ports/run-index.js';
import type { Approver } from '../domain/ports/approver.js';
import type { RiskLevel } from '../domain/events/common.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { type ApprovalPolicyConfig, maxPendingOf } from '../domain/approvals/policy-config.js';
import { GENESIS_HASH } from '../domain/audit/chain.js';
import type { AuditSigner } from '../domain/ports/audit-signer.js';
import type { SecretProvider } from '../domain/ports/secrets.js';
import { route, matchesPattern, type WorkerView } from '../domain/routing/route.js';
import type { RunCommand } from '../domain/run/commands.js';
import { decide } from '../domain/run/decide.js';
import { foldRun } from '../domain/run/evolve.js';
import { INTERRUPT_GRACE_MS, nextActions, type RunAction } from '../domain/run/next-actions.js';
import { defaultRetryPolicy, RetryPolicy } from '../domain/run/retry.js';
import { findStep, initialRunState, type RunState, runStreamId, TERMINAL_RUN } from '../domain/run/state.js';
import { type Clock, systemClock } from './clock.js';
import { defaultProfiles, defaultWorkers, type Profile, type WorkerConfig } from './profiles.js';
import { redact, SensitiveKeys } from '../domain/secrets.js';
import { approvalNotifications } from './approval-notifications.js';
import { appendSigning } from './audit-signing.js';
import { Gatekeeper } from './gates.js';
import { PendingLimits } from './pending-limits.js';
import type { FollowerHealth } from '../following/health.js';
import { RunFollower } from './run-follower.js';
import { loadRun, toAppend } from './run-repository.js';
import { AbandonCall, ToolInvoker } from './tool-invoker.js';
import type { ToolDefinition, ToolRegistry } from './tools/tool.js';

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
  /** Where `{ "$secret": "NAME" }` references are resolved; default: `GATEHOUSE_SECRET_<NAME>` variables. */
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
  /** Told of every approval event this engine appends. */
  readonly notifier?: Notifier;
  /** Signs approval decisions (granted, denied, auto-approved, expired) with the server's audit key. */
  readonly signer?: AuditSigner;
  /** Hash-chain every event appended (DESIGN.md "Audit integrity"). Default true. */
  readonly chain?: boolean;
  /** How long a pending-approval slot whose gate never reached its run is held. Default 60,000 ms. */
  readonly pendingSlotGraceMs?: number;
  /** Where the follower of the log says whether it is live or stalled (for /healthz). */
  readonly followerHealth?: FollowerHealth;
}

/** What an engine error is about; `what` is one of a few fixed words (a metric label). */
export interface EngineErrorContext {
  readonly runId: string;
  readonly what: 'drive' | 'record-result' | 'consult' | 'follow' | 'pending-slots';
  /** For `pending-slots`: whose slots were being settled. */
  readonly requesterId?: string;
  readonly code?: string;
  readonly stepId?: string;
  readonly attempt?: number;
  readonly approvalId?: string;
}

interface RunHandle {
  state: RunState;
  revision: number;
  lastHash?: string;
  queue: Promise<unknown>;
  pending: number;
  readonly calls: Map<string, AbortController>;
  timer?: NodeJS.Timeout;
  timerAt?: string;
}

type StartedCall = RunEventData<'ToolCallStarted'>;

/** Why a call was abandoned by a graceful shutdown (recorded as interrupted, not as a tool failure). */
class ShutdownAbort extends AbandonCall {
  constructor() {
    super('interrupted: Gatehouse was shutting down');
  }
}

const ENGINE_ACTOR = 'system:engine';
/**
 * How many finished runs' last revisions are kept: enough for the follower, which sees a run's
 * events shortly after the engine has finished and forgotten it, to skip reading it back.
 */
const FINISHED_REMEMBERED = 1_024;

/**
 * Drives runs: asks the pure `nextActions` what is due, decides it, and appends every decision
 * that needs no I/O in one atomic append (a tool result, the next steps' routing and claims, the
 * completion), then runs the claimed tools. Work for one run is serialized through its queue;
 * other processes are kept honest by the expected revision of every append.
 */
export class RunEngine {
  private readonly store: EventStore;
  private readonly tools: ToolRegistry;
  private readonly workers: readonly WorkerConfig[];
  private readonly profiles: Readonly<Record<string, Profile>>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly maxConflictRetries: number;
  private readonly onError: NonNullable<RunEngineOptions['onError']>;
  private readonly runs = new Map<string, RunHandle>();
  /** Runs finished and forgotten here → their last revision (bounded): the follower need not read them back. */
  private readonly finished = new Map<string, number>();
  private readonly load = new Map<string, number>();
  private readonly waitingForWorker = new Set<string>();
  private readonly listeners = new Set<(runId: string, state: RunState) => void>();
  private readonly retryPolicies = new Map<string, RetryPolicy>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sensitive: SensitiveKeys;
  private readonly invoker: ToolInvoker;
  private readonly follower: RunFollower | undefined;
  private readonly drive: boolean;
  private readonly graceMs: number;
  private readonly policy: ApprovalPolicyConfig | undefined;
  private readonly approvers: readonly Approver[];
  private readonly notifier: Notifier | undefined;
  private readonly consulting = new Map<string, AbortController>();
  private readonly gates: Gatekeeper;
  private readonly signer?: AuditSigner;
  private readonly chain: boolean;
  /** Per-requester pending-approval slots (with a policy: every role has a limit). */
  private readonly limits: PendingLimits | undefined;
  private turn = 0;
  private draining = false;
  private closed = false;

  constructor(options: RunEngineOptions) {
    this.store = options.store;
    this.tools = options.tools;
    this.workers = options.workers ?? defaultWorkers;
    this.profiles = options.profiles ?? defaultProfiles;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.maxConflictRetries = options.maxConflictRetries ?? 20;
    this.onError = options.onError ?? ((error, ctx) => console.error(`gatehouse engine: ${ctx.what} (run ${ctx.runId}):`, error));
    this.sensitive = new SensitiveKeys(options.sensitiveKeys);
    this.invoker = new ToolInvoker(options.secrets ?? createEnvSecrets(), this.sensitive);
    this.drive = options.drive ?? true;
    this.policy = options.approvalPolicy;
    this.approvers = options.approvers ?? [];
    this.notifier = options.notifier;
    this.gates = new Gatekeeper(this.policy, this.approvers.map((a) => a.name));
    this.signer = options.signer;
    this.chain = options.chain ?? true;
    this.graceMs = options.interruptGraceMs ?? INTERRUPT_GRACE_MS;
    const policy = this.policy;
    this.limits = policy
      ? new PendingLimits({
          store: this.store,
          limitOf: (role) => maxPendingOf(policy, role),
          now: () => this.now(),
          graceMs: options.pendingSlotGraceMs,
          onError: (error, requesterId) => this.report(error, { runId: '*', what: 'pending-slots', requesterId }),
        })
      : undefined;
    this.follower = this.drive
      ? new RunFollower(this.store, options.runIndex ?? createMemoryRunIndex(), this, (error) => this.report(error, { runId: '*', what: 'follow' }), 1_000, options.reconcileEveryMs ?? 5_000, options.followerHealth)
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
    return this.runs.has(runId) ? undefined : this.finished.get(runId);
  }

  /**
   * Open approval requests of a requester, from the log this engine follows (undefined for an
   * API-only engine, which follows nothing: give the API a read model instead).
   */
  async pendingRequestsOf(requesterId: string): Promise<number | undefined> {
    if (!this.follower) return undefined;
    await this.follower.waitFor(await this.store.headPosition());
    return this.follower.pendingRequestsOf(requesterId);
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
    const settled = Promise.allSettled([...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    for (const handle of this.runs.values()) for (const c of handle.calls.values()) c.abort(new ShutdownAbort());
    await Promise.allSettled([...this.inFlight]);
    await this.close();
  }

  /** The engine's notion of now, as an ISO instant (its Clock). */
  now(): string {
    return this.clock.now().toISOString();
  }

  profile(name: string): Profile | undefined {
    return Object.hasOwn(this.profiles, name) ? this.profiles[name] : undefined;
  }

  /**
   * Applies commands to a run and drives it as far as it goes without waiting, in one append.
   * Returns the state after it; a refused command throws its DomainError and appends nothing.
   */
  execute(runId: string, commands: readonly RunCommand[], actor = ENGINE_ACTOR, seenRevision?: number): Promise<RunState> {
    if (this.closed) return Promise.reject(new Error('the engine is closed'));
    const handle = this.runs.get(runId) ?? this.newHandle(runId);
    handle.pending++;
    const result = handle.queue.then(() => {
      // The log has moved past what this engine holds: read it again before deciding.
      if (seenRevision !== undefined && handle.revision < seenRevision) handle.revision = -2;
      return this.executeNow(runId, handle, commands, actor);
    });
    handle.queue = result.catch(() => undefined).finally(() => {
      handle.pending--;
      this.maybeForget(runId, handle);
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
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the run's state once `predicate` holds (checked now and after each append). */
  async waitFor(runId: string, predicate: (state: RunState) => boolean, timeoutMs = 10_000): Promise<RunState> {
    return new Promise<RunState>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`run ${runId}: condition not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = this.onChange((id, state) => {
        if (id === runId && predicate(state)) {
          clearTimeout(timer);
          stop();
          resolve(state);
        }
      });
      this.getState(runId).then(
        (state) => {
          if (predicate(state)) {
            clearTimeout(timer);
            stop();
            resolve(state);
          }
        },
        (error: unknown) => {
          clearTimeout(timer);
          stop();
          reject(error);
        },
      );
    });
  }

  /** Stops timers and aborts calls in flight; the log keeps everything needed to go on later. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.follower?.close();
    await this.limits?.idle();
    for (const c of this.consulting.values()) c.abort();
    for (const handle of this.runs.values()) {
      if (handle.timer) clearTimeout(handle.timer);
      for (const c of handle.calls.values()) c.abort(new Error('engine shutting down'));
    }
    await Promise.allSettled([...this.runs.values()].map((h) => h.queue));
  }

  private newHandle(runId: string): RunHandle {
    const handle: RunHandle = { state: undefined as unknown as RunState, revision: -2, queue: Promise.resolve(), pending: 0, calls: new Map() };
    this.runs.set(runId, handle);
    return handle;
  }

  private async executeNow(runId: string, handle: RunHandle, commands: readonly RunCommand[], actor: string): Promise<RunState> {
    for (let attempt = 0; ; attempt++) {
      const cached = handle.revision !== -2;
      let read = false;
      if (handle.revision === -2 && attempt === 0 && commands[0]?.type === 'StartRun') {
        // A new run: skip the read; if the stream exists after all, the append's no_stream
        // expectation fails and the retry below reads it and refuses the start.
        handle.state = initialRunState();
        handle.revision = -1;
        handle.lastHash = undefined;
      } else if (handle.revision === -2) {
        const loaded = await loadRun(this.store, runId);
        handle.state = loaded.state;
        handle.revision = loaded.revision;
        handle.lastHash = loaded.lastHash;
        read = true;
      }
      let plan: ReturnType<RunEngine['plan']>;
      try {
        plan = this.plan(runId, handle.state, commands, actor);
      } catch (error) {
        // A refusal decided on a cached state may be stale (another process moved the run on):
        // confirm it against the log before returning it.
        if (error instanceof DomainError && cached && attempt < this.maxConflictRetries) {
          handle.revision = -2;
          continue;
        }
        // The refusal stands, but the state it was decided on was just read from the log: the
        // engine now holds whatever others appended (another process's ApprovalGranted, say)
        // without having decided what that makes due, and the follower will not wake it for those
        // events any more (they are no longer newer than what it holds). Look at the run again now.
        // Only after a caller's commands: a kick that fails on a fresh read does not kick itself.
        // A run with no stream has nothing to look at (a command naming a made-up id).
        if (read && handle.revision >= 0 && commands.length > 0 && this.drive && !this.closed) this.kick(runId);
        throw error;
      }
      if (plan.events.length === 0) {
        this.stopIfEnded(handle); // the run may have ended elsewhere (a foreign RunCancelled, say)
        this.schedule(runId, handle, plan.wakeAt);
        for (const approvalId of plan.consults) this.consult(runId, handle, approvalId);
        return handle.state;
      }
      // Gates left open take their requester's slots first (a refused start appends nothing).
      let slots: Awaited<ReturnType<PendingLimits['admit']>>['slots'] = [];
      if (this.limits) {
        const starting = commands.some((c) => c.type === 'StartRun');
        ({ plan, slots } = await this.limits.admit(runId, plan, starting, (denied) => this.plan(runId, handle.state, commands, actor, denied)));
      }
      const before = handle.state;
      try {
        const signing = this.chain && this.signer ? appendSigning(this.signer, this.gates.policyVersion, plan.state, plan.events, this.now()) : undefined;
        const result = await this.store.append(runStreamId(runId), toAppend(runId, plan.events, plan.actors, signing?.fields), {
          expectedRevision: handle.revision < 0 ? 'no_stream' : handle.revision,
          ...(this.chain ? { chain: { previousHash: handle.lastHash ?? GENESIS_HASH, sign: signing?.sign } } : {}),
        });
        handle.revision = result.nextExpectedRevision;
        handle.lastHash = result.lastHash;
        handle.state = plan.state;
      } catch (error) {
        // The gates were not recorded: their slots back nothing (if this fails, the grace frees them).
        if (this.limits && slots.length > 0 && before.requestedBy) {
          await this.limits.abandon(before.requestedBy.id, slots).catch((e: unknown) => this.report(e, { runId, what: 'pending-slots', requesterId: before.requestedBy?.id }));
        }
        if (error instanceof WrongExpectedRevisionError && attempt < this.maxConflictRetries) {
          handle.revision = -2; // someone else appended: re-read and decide again
          continue;
        }
        throw error;
      }
      this.stopIfEnded(handle);
      this.limits?.afterAppend(before, plan.events);
      for (const call of plan.calls) this.launch(runId, handle, call);
      for (const approvalId of plan.consults) this.consult(runId, handle, approvalId);
      this.schedule(runId, handle, plan.wakeAt);
      if (this.notifier) for (const n of approvalNotifications(runId, plan.events, handle.state, this.now())) this.notifier.notify(n);
      for (const listener of this.listeners) listener(runId, handle.state);
      return handle.state;
    }
  }

  /**
   * Decides the commands, then every action due now, folding as it goes. No I/O. The caller's
   * commands' events carry the caller as actor; what the engine decides after them carries the
   * engine (a grant is the approver's; the tool call it lets start is the engine's).
   */
  private plan(runId: string, initial: RunState, commands: readonly RunCommand[], actor: string, denied?: ReadonlyMap<string, string>) {
    let state = initial;
    const events: RunEvent[] = [];
    const actors: string[] = [];
    const calls: StartedCall[] = [];
    const reserved = new Map<string, number>();
    const apply = (command: RunCommand, by: string) => {
      const produced = decide(command, state);
      state = foldRun(produced, state);
      events.push(...produced);
      for (let i = 0; i < produced.length; i++) actors.push(by);
      for (const e of produced) {
        if (e.type === 'ToolCallStarted') {
          calls.push(e.data);
          reserved.set(e.data.worker, (reserved.get(e.data.worker) ?? 0) + 1);
        }
      }
    };
    for (const command of commands) apply(this.gates.withEditAssessment(this.sanitize(command), state, (name) => this.tools.get(name)), actor);
    let wakeAt: string | undefined;
    let consults: string[] = [];
    const driving = this.drive && !this.draining;
    for (let guard = 0; driving && guard < 100_000; guard++) {
      const now = this.clock.now().toISOString();
      let progressed = false;
      wakeAt = undefined;
      consults = [];
      for (const action of nextActions(state, now, this.graceMs)) {
        if (action.kind === 'wait_until') wakeAt = action.at;
        if (action.kind === 'consult') consults.push(action.approvalId);
        const command = this.commandFor(runId, action, state, now, reserved, denied);
        if (!command) continue;
        apply(command, ENGINE_ACTOR);
        progressed = true;
        if (state.status !== 'RUNNING') break;
      }
      if (!progressed) break;
    }
    const live = driving && state.status === 'RUNNING';
    return { state, events, actors, calls: driving ? calls : [], wakeAt: live ? wakeAt : undefined, consults: live ? consults : [] };
  }

  /**
   * A finished run's calls are aborted through their AbortSignal; their answers are still awaited
   * and recorded (the truth of what the tools did), then the handle is forgotten.
   */
  private stopIfEnded(handle: RunHandle): void {
    if (!TERMINAL_RUN.has(handle.state.status)) return;
    for (const c of handle.calls.values()) if (!c.signal.aborted) c.abort(new Error(`run ${handle.state.status.toLowerCase()}`));
  }

  private commandFor(runId: string, action: RunAction, state: RunState, now: string, reserved: Map<string, number>, denied?: ReadonlyMap<string, string>): RunCommand | undefined {
    switch (action.kind) {
      case 'route': {
        // No pending-approval slot left for this step's gate (PendingLimits.admit): a POLICY failure.
        const refusal = denied?.get(action.stepId);
        if (refusal) return { type: 'RejectStep', stepId: action.stepId, error: { message: refusal, code: 'PENDING_LIMIT' } };
        return this.routeCommand(runId, state, action.stepId, now);
      }
      case 'start': {
        const step = findStep(state, action.stepId);
        const tool = step && this.tools.get(step.tool);
        if (!step || !tool || !step.worker) return undefined;
        const worker = this.workers.find((w) => w.name === step.worker);
        const busy = (this.load.get(step.worker) ?? 0) + (reserved.get(step.worker) ?? 0);
        if (worker && busy >= worker.concurrency) {
          this.waitingForWorker.add(runId);
          return undefined;
        }
        return { type: 'StartToolCall', stepId: step.id, timeoutMs: tool.timeoutMs, now };
      }
      case 'recover': {
        // A call this engine is running is not lost: its own timeout will answer for it.
        if (this.runs.get(runId)?.calls.has(action.stepId)) return undefined;
        const step = findStep(state, action.stepId);
        const idempotent = step ? (this.tools.get(step.tool)?.idempotent ?? false) : false;
        return { type: 'RecoverToolCall', stepId: action.stepId, attempt: action.attempt, idempotent, graceMs: this.graceMs, now };
      }
      case 'skip':
        return { type: 'SkipStep', stepId: action.stepId, becauseOf: action.becauseOf };
      case 'expire_approval':
        return { type: 'ExpireApproval', approvalId: action.approvalId, now };
      case 'complete':
        return { type: 'CompleteRun' };
      case 'fail': {
        const step = action.stepId ? findStep(state, action.stepId) : undefined;
        return action.reason === 'deadline'
          ? { type: 'FailRun', error: { message: `run deadline ${state.deadline} passed`, code: 'DEADLINE' }, failureMode: 'RESOURCE' }
          : {
              type: 'FailRun',
              error: step?.error ?? { message: 'a step failed' },
              failureMode: step?.failureMode,
              failedStep: step?.id,
            };
      }
      case 'consult': // asked after the append, off the decision path (see consult())
      case 'wait_until':
        return undefined;
    }
  }

  private routeCommand(runId: string, state: RunState, stepId: string, now: string): RunCommand {
    const step = findStep(state, stepId);
    if (!step) throw new Error(`no step ${stepId}`);
    const reject = (message: string, code: string): RunCommand => ({ type: 'RejectStep', stepId, error: { message, code } });
    const tool = this.tools.get(step.tool);
    if (!tool) return reject(`unknown tool ${step.tool}`, 'UNKNOWN_TOOL');
    const profile = this.profile(state.profile);
    if (!profile) return reject(`unknown profile ${state.profile}`, 'UNKNOWN_PROFILE');
    if (!profile.allowedTools.some((p) => matchesPattern(p, tool.name))) {
      return reject(`profile ${profile.name} does not allow tool ${tool.name}`, 'TOOL_NOT_ALLOWED');
    }
    const decision = route(profile.routing, this.workerViews(), { tool: tool.name, tags: tool.tags ?? [] }, this.turn++);
    if (!decision.ok) return reject(decision.reason, 'NO_CAPABLE_WORKER');
    const { ok: _ok, ...routing } = decision;
    return { type: 'RouteStep', stepId, routing, ...this.gates.gateFor(runId, state, step.id, tool, now) };
  }

  private workerViews(): WorkerView[] {
    return this.workers.map((w) => ({ name: w.name, tools: w.tools, tags: w.tags, concurrency: w.concurrency, inFlight: this.load.get(w.name) ?? 0 }));
  }

  private launch(runId: string, handle: RunHandle, call: StartedCall): void {
    const tool = this.tools.get(call.tool);
    const controller = new AbortController();
    handle.calls.set(call.stepId, controller);
    this.load.set(call.worker, (this.load.get(call.worker) ?? 0) + 1);
    const done = this.invoker.invoke(runId, call, tool, controller).then(async (result) => {
      if (handle.calls.get(call.stepId) === controller) handle.calls.delete(call.stepId);
      this.load.set(call.worker, (this.load.get(call.worker) ?? 1) - 1);
      this.wakeWorkerWaiters();
      if (this.closed) return;
      // An idempotent call stopped by a graceful shutdown is left claimed in the log, exactly as a
      // kill leaves it: the next engine's recovery re-claims it with the same key, whatever the
      // error strategy (a recorded failure would let FAIL_FAST fail a run a kill would continue).
      if (controller.signal.reason instanceof ShutdownAbort && tool?.idempotent) return;
      const outcome =
        controller.signal.reason instanceof ShutdownAbort
          ? { ok: false as const, error: { message: controller.signal.reason.message, code: 'INTERRUPTED' }, failureMode: 'SYSTEM' as const, durationMs: result.durationMs, retryable: false }
          : result;
      await this.execute(runId, [
        { type: 'RecordToolResult', stepId: call.stepId, attempt: call.attempt, outcome, retry: this.retryPolicy(tool), now: this.clock.now().toISOString(), random: this.random() },
      ]).catch((error: unknown) => {
        // Every started attempt's answer is recorded; only a second answer for one attempt is
        // refused, and that is reported too: never silently, since it is what the tool did.
        this.report(error, { runId, what: 'record-result', stepId: call.stepId, attempt: call.attempt });
      });
    });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** A tool's retry policy over the defaults, parsed once per tool. */
  private retryPolicy(tool: ToolDefinition | undefined): RetryPolicy {
    const name = tool?.name ?? '';
    let policy = this.retryPolicies.get(name);
    if (!policy) {
      policy = RetryPolicy.parse({ ...defaultRetryPolicy, ...tool?.retry });
      this.retryPolicies.set(name, policy);
    }
    return policy;
  }

  /**
   * Asks the automated approvers about an open gate, in order, until one approves or denies; if
   * all hand over, the last hand-over is recorded. Not durable by itself: the gate stays
   * "not consulted" in the log until an answer is appended, so after a restart it is asked again.
   */
  private consult(runId: string, handle: RunHandle, approvalId: string): void {
    if (this.consulting.has(approvalId) || this.approvers.length === 0) return;
    const gate = handle.state.steps.find((s) => s.gate?.approvalId === approvalId)?.gate;
    if (!gate) return;
    const controller = new AbortController();
    this.consulting.set(approvalId, controller);
    const request = { runId, request: gate.request };
    const asked = (async () => {
      let last = { approver: this.approvers[0]?.name ?? 'none', decision: 'handover' as 'approve' | 'deny' | 'handover', reason: 'no automated approver', ceiling: 'medium' as RiskLevel, actsFor: [] as readonly string[] };
      for (const approver of this.approvers.filter((a) => gate.request.automatedApprovers.includes(a.name))) {
        let answer: { decision: 'approve' | 'deny' | 'handover'; reason: string };
        try {
          answer = await approver.decide(request, controller.signal);
        } catch (error) {
          answer = { decision: 'handover', reason: `${approver.name} failed: ${(error as Error).message}` };
        }
        last = { approver: approver.name, ...answer, ceiling: approver.maxRisk ?? 'medium', actsFor: approver.actsFor ?? [] };
        if (answer.decision !== 'handover') break;
      }
      if (controller.signal.aborted) return;
      await this.execute(runId, [{ type: 'RecordAutomatedDecision', approvalId, approver: last.approver, decision: last.decision, reason: last.reason, ceiling: last.ceiling, actsFor: last.actsFor }], `approver:${last.approver}`);
    })();
    const done = asked
      .catch((error: unknown) => this.report(error, { runId, what: 'consult', approvalId }))
      .finally(() => this.consulting.delete(approvalId));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Inputs are redacted before they are decided on, so neither the log nor the state holds a secret. */
  private sanitize(command: RunCommand): RunCommand {
    switch (command.type) {
      case 'StartRun':
        return { ...command, steps: command.steps.map((s) => ({ ...s, input: redact(s.input, this.sensitive) as Record<string, unknown> })) };
      case 'GrantApproval':
        return command.editedInput ? { ...command, editedInput: redact(command.editedInput, this.sensitive) as Record<string, unknown> } : command;
      default:
        return command;
    }
  }

  /** Every error with no caller goes out here, with its code, so none is dropped unseen. */
  private report(error: unknown, context: Omit<EngineErrorContext, 'code'>): void {
    this.onError(error, { ...context, code: errorCode(error) });
  }

  private wakeWorkerWaiters(): void {
    if (this.waitingForWorker.size === 0) return;
    const waiting = [...this.waitingForWorker];
    this.waitingForWorker.clear();
    for (const runId of waiting) this.kick(runId);
  }

  /** Arms one timer per run for the earliest instant something becomes due (from nextActions). */
  private schedule(runId: string, handle: RunHandle, at: string | undefined): void {
    if (at === handle.timerAt) return;
    if (handle.timer) clearTimeout(handle.timer);
    handle.timer = undefined;
    handle.timerAt = at;
    if (!at || this.closed) return;
    const delay = Math.max(0, Date.parse(at) - this.clock.now().getTime());
    handle.timer = setTimeout(() => {
      handle.timer = undefined;
      handle.timerAt = undefined;
      this.kick(runId);
    }, Math.min(delay, 2_147_483_647));
  }

  /** Oldest first out: a run missing here is only read once more, never decided wrongly. */
  private rememberFinished(runId: string, revision: number): void {
    this.finished.delete(runId);
    this.finished.set(runId, revision);
    if (this.finished.size > FINISHED_REMEMBERED) this.finished.delete(this.finished.keys().next().value as string);
  }

  /**
   * Drops an idle run from memory once it is finished (its state lives in the log), or when it
   * has no stream at all (a refused command on a made-up id must leave nothing behind); an
   * API-only engine keeps nothing, since others move its runs on.
   */
  private maybeForget(runId: string, handle: RunHandle): void {
    const done = handle.revision >= 0 && TERMINAL_RUN.has(handle.state.status);
    const nothing = handle.revision < 0;
    if (handle.pending === 0 && handle.calls.size === 0 && (done || nothing || !this.drive)) {
      if (handle.timer) clearTimeout(handle.timer);
      if (this.runs.get(runId) === handle) this.runs.delete(runId);
      if (done) this.rememberFinished(runId, handle.revision);
    }
  }
}
