import type { RunCommand } from '../domain/run/commands.js';
import type { RunAction } from '../domain/run/next-actions.js';
import { findStep, type RunState } from '../domain/run/state.js';
import { matchesPattern, route, type WorkerView } from '../domain/routing/route.js';
import type { Gatekeeper } from './gates.js';
import type { Profile, WorkerConfig } from './profiles.js';
import type { ToolRegistry } from './tools/tool.js';

/** What the router needs to know that it does not own. */
export interface StepRouterOptions {
  readonly tools: ToolRegistry;
  readonly workers: readonly WorkerConfig[];
  readonly profile: (name: string) => Profile | undefined;
  readonly gates: Gatekeeper;
  /** How long after a call's timeout it counts as interrupted. */
  readonly graceMs: number;
  /** Whether this engine is running a call of that step now (then it is not lost). */
  readonly callInFlight: (runId: string, stepId: string) => boolean;
  /** Calls in flight on a worker that other instances on the store decided (from the log); default none. */
  readonly othersInFlight?: (worker: string) => number;
}

/**
 * Turns what `nextActions` says is due into commands: routing a step to a worker (with its gate),
 * starting a call when its worker has room, recovering, skipping, expiring, finishing. Keeps the
 * load of every worker and the runs waiting for one to have room.
 */
export class StepRouter {
  private readonly load = new Map<string, number>();
  private readonly waitingForWorker = new Set<string>();
  private turn = 0;

  constructor(private readonly options: StepRouterOptions) {}

  /** The command for one due action, or undefined when there is nothing to decide now. */
  commandFor(runId: string, action: RunAction, state: RunState, now: string, reserved: Map<string, number>, denied?: ReadonlyMap<string, string>): RunCommand | undefined {
    const { tools, workers } = this.options;
    switch (action.kind) {
      case 'route': {
        // No pending-approval slot left for this step's gate (PendingLimits.admit): a POLICY failure.
        const refusal = denied?.get(action.stepId);
        if (refusal) return { type: 'RejectStep', stepId: action.stepId, error: { message: refusal, code: 'PENDING_LIMIT' } };
        return this.routeCommand(runId, state, action.stepId, now);
      }
      case 'start': {
        const step = findStep(state, action.stepId);
        const tool = step && tools.get(step.tool);
        if (!step || !tool || !step.worker) return undefined;
        const worker = workers.find((w) => w.name === step.worker);
        const busy = (this.load.get(step.worker) ?? 0) + (reserved.get(step.worker) ?? 0);
        if (worker && busy >= worker.concurrency) {
          this.waitingForWorker.add(runId);
          return undefined;
        }
        return { type: 'StartToolCall', stepId: step.id, timeoutMs: tool.timeoutMs, now };
      }
      case 'recover': {
        // A call this engine is running is not lost: its own timeout will answer for it.
        if (this.options.callInFlight(runId, action.stepId)) return undefined;
        const step = findStep(state, action.stepId);
        const idempotent = step ? (tools.get(step.tool)?.idempotent ?? false) : false;
        return { type: 'RecoverToolCall', stepId: action.stepId, attempt: action.attempt, idempotent, graceMs: this.options.graceMs, now };
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
      case 'consult': // the planner claims it (StartConsultation with its instance and lease), not a routing matter
      case 'wait_until':
        return undefined;
    }
  }

  /** A call started on a worker: it counts against the worker's concurrency until it ends. */
  callStarted(worker: string): void {
    this.load.set(worker, (this.load.get(worker) ?? 0) + 1);
  }

  /** A call ended: returns the runs that were waiting for a worker, to be looked at again. */
  callEnded(worker: string): string[] {
    this.load.set(worker, (this.load.get(worker) ?? 1) - 1);
    if (this.waitingForWorker.size === 0) return [];
    const waiting = [...this.waitingForWorker];
    this.waitingForWorker.clear();
    return waiting;
  }

  private routeCommand(runId: string, state: RunState, stepId: string, now: string): RunCommand {
    const step = findStep(state, stepId);
    if (!step) throw new Error(`no step ${stepId}`);
    const reject = (message: string, code: string): RunCommand => ({ type: 'RejectStep', stepId, error: { message, code } });
    const tool = this.options.tools.get(step.tool);
    if (!tool) return reject(`unknown tool ${step.tool}`, 'UNKNOWN_TOOL');
    const profile = this.options.profile(state.profile);
    if (!profile) return reject(`unknown profile ${state.profile}`, 'UNKNOWN_PROFILE');
    if (!profile.allowedTools.some((p) => matchesPattern(p, tool.name))) {
      return reject(`profile ${profile.name} does not allow tool ${tool.name}`, 'TOOL_NOT_ALLOWED');
    }
    const decision = route(profile.routing, this.workerViews(), { tool: tool.name, tags: tool.tags ?? [] }, this.turn++);
    if (!decision.ok) return reject(decision.reason, 'NO_CAPABLE_WORKER');
    const { ok: _ok, ...routing } = decision;
    return { type: 'RouteStep', stepId, routing, ...this.options.gates.gateFor(runId, state, step.id, tool, now) };
  }

  private workerViews(): WorkerView[] {
    // This process's own calls from memory (current the moment they start); the other instances' from the log.
    const others = this.options.othersInFlight ?? (() => 0);
    return this.options.workers.map((w) => ({ name: w.name, tools: w.tools, tags: w.tags, concurrency: w.concurrency, inFlight: (this.load.get(w.name) ?? 0) + others(w.name) }));
  }
}
