import type { RunEvent, RunEventData } from '../domain/events/index.js';
import type { RunCommand } from '../domain/run/commands.js';
import { decide } from '../domain/run/decide.js';
import { foldRun } from '../domain/run/evolve.js';
import { nextActions } from '../domain/run/next-actions.js';
import type { RunState } from '../domain/run/state.js';
import { redact, type SensitiveKeys } from '../domain/secrets.js';
import type { Clock } from './clock.js';
import type { Gatekeeper } from './gates.js';
import type { StepRouter } from './step-routing.js';
import type { ToolRegistry } from './tools/tool.js';

/** The actor of what the engine decides by itself (what a command makes due). */
export const ENGINE_ACTOR = 'system:engine';

/** A tool call the plan starts: launched once its append is in the log. */
export type StartedCall = RunEventData<'ToolCallStarted'>;

/** What one append will hold and what follows it: the calls to launch, the next wake-up, the gates this append claims to consult. */
export interface Plan {
  readonly state: RunState;
  readonly events: RunEvent[];
  readonly actors: string[];
  readonly calls: StartedCall[];
  readonly wakeAt: string | undefined;
  readonly consults: string[];
}

/** What the planner needs that it does not own. */
export interface PlannerOptions {
  readonly tools: ToolRegistry;
  readonly gates: Gatekeeper;
  readonly router: StepRouter;
  readonly sensitive: SensitiveKeys;
  readonly clock: Clock;
  readonly graceMs: number;
  /** Whether this engine drives runs now (false for an API-only or a draining engine). */
  readonly driving: () => boolean;
  /** Who claims a gate's consultation (this engine's instance id) and for how long (the lease). */
  readonly consultation: { readonly instance: string; readonly leaseMs: number };
}

/** Decides commands and everything they make due, folding as it goes; no I/O. */
export class Planner {
  constructor(private readonly options: PlannerOptions) {}

  /**
   * Decides the commands, then every action due now, folding as it goes. No I/O. The caller's
   * commands' events carry the caller as actor; what the engine decides after them carries the
   * engine (a grant is the approver's; the tool call it lets start is the engine's).
   */
  plan(runId: string, initial: RunState, commands: readonly RunCommand[], actor: string, denied?: ReadonlyMap<string, string>): Plan {
    const { tools, gates, router, clock, graceMs } = this.options;
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
    for (const command of commands) apply(gates.withEditAssessment(this.sanitize(command), state, (name) => tools.get(name)), actor);
    let wakeAt: string | undefined;
    const driving = this.options.driving();
    const { instance, leaseMs } = this.options.consultation;
    for (let guard = 0; driving && guard < 100_000; guard++) {
      const now = clock.now().toISOString();
      let progressed = false;
      wakeAt = undefined;
      for (const action of nextActions(state, now, graceMs)) {
        if (action.kind === 'wait_until') wakeAt = action.at;
        // A consultation is claimed in the append; only the engine whose append wins asks (see `consults`).
        const command: RunCommand | undefined = action.kind === 'consult'
          ? { type: 'StartConsultation', approvalId: action.approvalId, instance, now, leaseUntil: new Date(Date.parse(now) + leaseMs).toISOString() }
          : router.commandFor(runId, action, state, now, reserved, denied);
        if (!command) continue;
        apply(command, ENGINE_ACTOR);
        progressed = true;
        if (state.status !== 'RUNNING') break;
      }
      if (!progressed) break;
    }
    const live = driving && state.status === 'RUNNING';
    // The gates this append claims for this instance, still unanswered when it ends.
    const consults = events.flatMap((e) =>
      e.type === 'ApproverConsultationStarted' && e.data.instance === instance && state.steps.some((s) => s.gate?.approvalId === e.data.approvalId && s.gate.status === 'OPEN' && !s.gate.consulted) ? [e.data.approvalId] : [],
    );
    return { state, events, actors, calls: driving ? calls : [], wakeAt: live ? wakeAt : undefined, consults: live ? consults : [] };
  }

  /** Inputs are redacted before they are decided on, so neither the log nor the state holds a secret. */
  private sanitize(command: RunCommand): RunCommand {
    const sensitive = this.options.sensitive;
    switch (command.type) {
      case 'StartRun':
        return { ...command, steps: command.steps.map((s) => ({ ...s, input: redact(s.input, sensitive) as Record<string, unknown> })) };
      case 'GrantApproval':
        return command.editedInput ? { ...command, editedInput: redact(command.editedInput, sensitive) as Record<string, unknown> } : command;
      default:
        return command;
    }
  }
}
