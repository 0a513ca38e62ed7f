import type { RunCommand } from '../domain/run/commands.js';
import { defaultRetryPolicy, RetryPolicy } from '../domain/run/retry.js';
import { TERMINAL_RUN, type RunState } from '../domain/run/state.js';
import type { Clock } from './clock.js';
import type { ReportError } from './engine-errors.js';
import type { InFlight } from './in-flight.js';
import type { StartedCall } from './planner.js';
import type { RunHandle } from './run-handles.js';
import type { StepRouter } from './step-routing.js';
import { AbandonCall, type ToolInvoker } from './tool-invoker.js';
import type { ToolDefinition, ToolRegistry } from './tools/tool.js';

/** Why a call was abandoned by a graceful shutdown (recorded as interrupted, not as a tool failure). */
export class ShutdownAbort extends AbandonCall {
  constructor() {
    super('interrupted: Gatehouse was shutting down');
  }
}

/** What the launcher needs that it does not own. */
export interface CallLauncherOptions {
  readonly tools: ToolRegistry;
  readonly invoker: ToolInvoker;
  readonly router: StepRouter;
  readonly clock: Clock;
  readonly random: () => number;
  readonly inFlight: InFlight;
  readonly report: ReportError;
  readonly isClosed: () => boolean;
  /** Records a result through the command path (as the engine). */
  readonly execute: (runId: string, commands: readonly RunCommand[]) => Promise<RunState>;
  readonly kick: (runId: string) => void;
}

/**
 * Runs the tool calls an append started, each with its own AbortSignal, and records every
 * answer; a call counts against its worker until it ends, then the runs waiting for room are woken.
 */
export class CallLauncher {
  private readonly retryPolicies = new Map<string, RetryPolicy>();

  constructor(private readonly options: CallLauncherOptions) {}

  /** Invokes the call's tool and records its result (its append is already in the log). */
  launch(runId: string, handle: RunHandle, call: StartedCall): void {
    const { tools, invoker, router, clock, random } = this.options;
    const tool = tools.get(call.tool);
    const controller = new AbortController();
    handle.calls.set(call.stepId, controller);
    router.callStarted(call.worker);
    const done = invoker.invoke(runId, call, tool, controller).then(async (result) => {
      if (handle.calls.get(call.stepId) === controller) handle.calls.delete(call.stepId);
      for (const waiting of router.callEnded(call.worker)) this.options.kick(waiting);
      if (this.options.isClosed()) return;
      // An idempotent call stopped by a graceful shutdown is left claimed in the log, exactly as a
      // kill leaves it: the next engine's recovery re-claims it with the same key, whatever the
      // error strategy (a recorded failure would let FAIL_FAST fail a run a kill would continue).
      if (controller.signal.reason instanceof ShutdownAbort && tool?.idempotent) return;
      const outcome =
        controller.signal.reason instanceof ShutdownAbort
          ? { ok: false as const, error: { message: controller.signal.reason.message, code: 'INTERRUPTED' }, failureMode: 'SYSTEM' as const, durationMs: result.durationMs, retryable: false }
          : result;
      await this.options.execute(runId, [
        { type: 'RecordToolResult', stepId: call.stepId, attempt: call.attempt, outcome, retry: this.retryPolicy(tool), now: clock.now().toISOString(), random: random() },
      ]).catch((error: unknown) => {
        // Every started attempt's answer is recorded; only a second answer for one attempt is
        // refused, and that is reported too: never silently, since it is what the tool did.
        this.options.report(error, { runId, what: 'record-result', stepId: call.stepId, attempt: call.attempt });
      });
    });
    this.options.inFlight.track(done);
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
}

/**
 * A finished run's calls are aborted through their AbortSignal; their answers are still awaited
 * and recorded (the truth of what the tools did), then the handle is forgotten.
 */
export function stopIfEnded(handle: RunHandle): void {
  if (!TERMINAL_RUN.has(handle.state.status)) return;
  for (const c of handle.calls.values()) if (!c.signal.aborted) c.abort(new Error(`run ${handle.state.status.toLowerCase()}`));
}

/** Aborts every call of a run, with `reason`. */
export function abortCalls(handle: RunHandle, reason: unknown): void {
  for (const c of handle.calls.values()) c.abort(reason);
}
