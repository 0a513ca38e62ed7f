import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { runIdOfApprovalId } from '../domain/approvals/approval-id.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { BudgetLimits, ErrorStrategy, Instant, type Principal, RunId } from '../domain/events/common.js';
import { formatIssues } from '../domain/events/index.js';
import { PlannedStep } from '../domain/events/run-events.js';
import type { RunCommand } from '../domain/run/commands.js';
import type { RunState } from '../domain/run/state.js';
import { literalSecretPaths } from '../domain/secrets.js';
import type { RunEngine } from './engine.js';
import { expandPlaybook, type Playbook } from './profiles.js';
import { inputIssues } from './tools/input-check.js';
import type { ToolRegistry } from './tools/tool.js';

/** What a caller sends to start a run: explicit steps, or a playbook with its parameters. */
export const StartRunInput = z
  .object({
    runId: RunId.optional(),
    goal: z.string().min(1).max(10_000),
    profile: z.string().min(1).max(100),
    steps: z.array(PlannedStep).min(1).max(1_000).optional(),
    playbook: z.object({ name: z.string().min(1), params: z.record(z.string(), z.string()).default({}) }).optional(),
    errorStrategy: ErrorStrategy.optional(),
    budget: BudgetLimits.partial().optional(),
    maxParallel: z.number().int().positive().max(1000).optional(),
    deadline: Instant.optional(),
    /** The workspace the run acts in; a verified one raises approval confidence. */
    workspace: z.string().min(1).max(200).optional(),
    /** A retried request with the same key (per requester) gets the same run, not a second one. */
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .refine((v) => (v.steps ? 1 : 0) + (v.playbook ? 1 : 0) === 1, 'give either steps or a playbook');
export type StartRunInput = z.input<typeof StartRunInput>;

export interface OrchestratorOptions {
  readonly engine: RunEngine;
  readonly tools: ToolRegistry;
  readonly playbooks?: readonly Playbook[];
}

/**
 * The in-process API: what the GraphQL layer and the CLI call. Every method parses its input,
 * builds a command, lets the engine decide and append it, and returns the run's new state or a
 * typed DomainError (VALIDATION, NOT_FOUND, ILLEGAL_STATE, UNAUTHORIZED, CONCURRENCY_CONFLICT).
 */
export class Orchestrator {
  private readonly engine: RunEngine;
  private readonly tools: ToolRegistry;
  private readonly playbooks: ReadonlyMap<string, Playbook>;

  constructor(options: OrchestratorOptions) {
    this.engine = options.engine;
    this.tools = options.tools;
    this.playbooks = new Map((options.playbooks ?? []).map((p) => [p.name, p]));
  }

  async startRun(raw: StartRunInput, by: Principal): Promise<RunState> {
    const input = parse(StartRunInput, raw, 'startRun');
    const profile = this.engine.profile(input.profile);
    if (!profile) throw new ValidationError(`unknown profile "${input.profile}"`);
    const runId = input.runId ?? (input.idempotencyKey ? idempotentRunId(by.id, input.idempotencyKey) : randomUUID());
    const workspace = input.workspace;
    if (input.idempotencyKey) {
      const existing = await this.engine.getState(runId);
      if (existing.status !== 'NONE') return existing;
    }
    let steps = input.steps;
    if (input.playbook) {
      const playbook = this.playbooks.get(input.playbook.name);
      if (!playbook) throw new ValidationError(`unknown playbook "${input.playbook.name}"`);
      steps = expandPlaybook(playbook, input.playbook.params);
    }
    for (const step of steps ?? []) this.refuseLiteralSecrets(step.input, `step ${step.id} input`);
    for (const step of steps ?? []) this.checkStepInput(step);
    const command: RunCommand = {
      type: 'StartRun',
      runId,
      goal: input.goal,
      profile: profile.name,
      requestedBy: by,
      errorStrategy: input.errorStrategy ?? profile.errorStrategy,
      budget: { ...profile.budget, ...input.budget },
      maxParallel: input.maxParallel ?? profile.maxParallel,
      steps: steps ?? [],
      deadline: input.deadline,
      workspace,
      playbook: input.playbook?.name,
      idempotencyKey: input.idempotencyKey,
    };
    // The pending-approval limit is the engine's: its gates take slots on the requester's stream.
    return this.engine.execute(runId, [command], actor(by));
  }

  cancelRun(runId: string, by: Principal & { isAdmin?: boolean }, reason?: string): Promise<RunState> {
    return this.engine.execute(runId, [{ type: 'CancelRun', by: { id: by.id, role: by.role }, isAdmin: by.isAdmin ?? false, reason }], actor(by));
  }

  resumeRun(runId: string, by: Principal & { isAdmin?: boolean }, reason?: string): Promise<RunState> {
    return this.engine.execute(runId, [{ type: 'ResumeRun', by: { id: by.id, role: by.role }, isAdmin: by.isAdmin ?? false, reason }], actor(by));
  }

  async grantApproval(input: { approvalId: string; justification?: string; editedInput?: Record<string, unknown> }, by: Principal): Promise<RunState> {
    const runId = runIdOfApproval(input.approvalId);
    if (input.editedInput !== undefined) {
      this.refuseLiteralSecrets(input.editedInput, 'edited input');
      await this.checkEditedInput(runId, input.approvalId, input.editedInput);
    }
    return this.engine.execute(
      runId,
      [{ type: 'GrantApproval', approvalId: input.approvalId, approver: by, justification: input.justification, editedInput: input.editedInput, now: this.now() }],
      actor(by),
    );
  }

  denyApproval(input: { approvalId: string; justification?: string }, by: Principal): Promise<RunState> {
    const runId = runIdOfApproval(input.approvalId);
    return this.engine.execute(
      runId,
      [{ type: 'DenyApproval', approvalId: input.approvalId, approver: by, justification: input.justification, now: this.now() }],
      actor(by),
    );
  }

  cancelApproval(input: { approvalId: string; reason?: string }, by: Principal & { isAdmin?: boolean }): Promise<RunState> {
    const runId = runIdOfApproval(input.approvalId);
    return this.engine.execute(
      runId,
      [{ type: 'CancelApproval', approvalId: input.approvalId, by: { id: by.id, role: by.role }, isAdmin: by.isAdmin ?? false, reason: input.reason }],
      actor(by),
    );
  }

  /** Widens who may decide an open request, as far as the caller's role may escalate (the policy's roles). */
  escalateApproval(input: { approvalId: string; toRoles?: string[]; reason?: string }, by: Principal): Promise<RunState> {
    const runId = runIdOfApproval(input.approvalId);
    const allowed = this.engine.approvalPolicy()?.roles[by.role]?.escalateTo ?? (by.role === 'tech_lead' ? ['devops_engineer'] : []);
    return this.engine.execute(
      runId,
      [{ type: 'EscalateApproval', approvalId: input.approvalId, by, allowedTargets: allowed, toRoles: input.toRoles, reason: input.reason }],
      actor(by),
    );
  }

  /** Calls `listener` with a run's new state after each change this instance's engine makes (fronts that wait on a run). */
  onRunChange(listener: (runId: string, state: RunState) => void): () => void {
    return this.engine.onChange(listener);
  }

  async getRun(runId: string): Promise<RunState> {
    parse(RunId, runId, 'runId');
    const state = await this.engine.getState(runId);
    if (state.status === 'NONE') throw new NotFoundError(`no run ${runId}`, { runId });
    return state;
  }

  /** A secret written into an input would be redacted from the log and lost to the tool: refuse it. */
  private refuseLiteralSecrets(input: unknown, where: string): void {
    const paths = literalSecretPaths(input, this.engine.sensitiveKeys());
    if (paths.length > 0) {
      throw new ValidationError(`${where}: ${paths.join(', ')} must be passed as a secret reference, e.g. { "$secret": "NAME" }, never as a value`, { paths });
    }
  }

  /**
   * A step naming a tool nobody registered, or an input its tool would reject, cannot run at all:
   * refused before anything is recorded, naming the step and the field. (A tool the profile does
   * not allow is a policy decision and stays a recorded POLICY failure of the step.)
   */
  private checkStepInput(step: { id: string; tool: string; input: Record<string, unknown> }): void {
    const tool = this.tools.get(step.tool);
    if (!tool) throw new ValidationError(`step ${step.id}: unknown tool "${step.tool}"`, { stepId: step.id, field: 'tool' });
    const issues = inputIssues(tool, step.input);
    if (issues.length > 0) {
      const where = issues.map((i) => `input.${i.path}: ${i.message}`).join('; ');
      throw new ValidationError(`step ${step.id}: input does not fit ${tool.name}: ${where}`, { stepId: step.id, fields: issues.map((i) => i.path) });
    }
  }

  private async checkEditedInput(runId: string, approvalId: string, edited: Record<string, unknown>): Promise<void> {
    const state = await this.getRun(runId);
    const step = state.steps.find((s) => s.gate?.approvalId === approvalId);
    const tool = step && this.tools.get(step.tool);
    if (!tool) return; // the decider reports the missing gate
    const issues = inputIssues(tool, edited);
    if (issues.length > 0) throw new ValidationError(`edited input does not fit ${tool.name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }

  private now(): string {
    return this.engine.now();
  }
}

/** Approval ids are `<runId>/<stepId>/<n>`: the run they belong to is part of the id. */
export function runIdOfApproval(approvalId: string): string {
  const runId = runIdOfApprovalId(approvalId);
  if (!runId) {
    throw new ValidationError(`"${String(approvalId)}" is not an approval id`);
  }
  return runId;
}

function idempotentRunId(principal: string, key: string): string {
  return createHash('sha256').update(`${principal}\u0000${key}`).digest('hex').slice(0, 32);
}

function actor(by: Principal): string {
  return `user:${by.id}`;
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`${what}: ${formatIssues(result.error)}`);
  return result.data;
}
