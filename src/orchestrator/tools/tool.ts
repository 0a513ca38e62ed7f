import type { z } from 'zod';
import type { ActionFacts } from '../../domain/approvals/assess.js';
import type { FailureMode, RiskLevel } from '../../domain/events/common.js';
import type { RetryPolicy } from '../../domain/run/retry.js';

/** A fact fixed by the tool, or read from each call's input (risk is judged per call). */
export type ActionFact = string | ((input: Record<string, unknown>) => string | undefined);

/** What a tool does, for risk rules: e.g. `{ category: 'deploy', operation: 'release', environment: 'production' }`. */
export interface ToolAction {
  readonly category: string;
  /** Fixed, or derived from the input (a SQL tool's verb: `select`, `delete`, ...). */
  readonly operation: ActionFact;
  /** A fixed environment, or one read from the input. */
  readonly environment?: ActionFact;
  /** What it acts on (a table, a branch, a bucket), fixed or read from the input. */
  readonly resource?: ActionFact;
}

/** The facts risk rules judge for one call of `tool` with `input`. */
export function actionFacts(tool: Pick<ToolDefinition, 'action'>, input: Record<string, unknown>): ActionFacts {
  const read = (fact: ActionFact | undefined) => (typeof fact === 'function' ? fact(input) : fact);
  const { category } = tool.action;
  // An operation the input does not tell is unknown, never a safe default.
  return { category, operation: read(tool.action.operation) ?? 'unknown', environment: read(tool.action.environment), resource: read(tool.action.resource), input };
}

/** What a tool's handler receives besides its input. */
export interface ToolContext {
  /** Aborted on timeout and on cancellation of the run. */
  readonly signal: AbortSignal;
  /** `runId:stepId:attempt`: the same key means the same call; use it to deduplicate side effects. */
  readonly idempotencyKey: string;
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
}

/** The minimal gate of a tool: who may approve and how many must (richer rules come from config). */
export interface ToolApproval {
  readonly eligibleRoles: readonly string[];
  readonly requiredApprovals?: number;
  readonly timeoutMs?: number;
  readonly justificationRequired?: boolean;
  readonly onTimeout?: 'approve' | 'deny';
}

export interface ToolDefinition<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: I;
  readonly output?: z.ZodType<O>;
  /** The budget domain its calls count against. */
  readonly domain: string;
  readonly action: ToolAction;
  /** Safe to run twice with the same idempotency key (recovery retries it after a crash). */
  readonly idempotent: boolean;
  readonly timeoutMs: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Worker tags the tool needs. */
  readonly tags?: readonly string[];
  readonly approval?: ToolApproval;
  /** The lowest risk level any call of this tool is judged at, whatever the rules say. */
  readonly minRisk?: RiskLevel;
  /** Whether the tool can be called now (an MCP server that is down); absent means always. */
  readonly availability?: () => ToolAvailability;
  readonly handler: (input: z.output<I>, context: ToolContext) => Promise<O> | O;
}

/** Whether a tool's backend is reachable, and why not. */
export interface ToolAvailability {
  readonly available: boolean;
  readonly reason?: string;
}

/** Declares a tool; the definition is checked once, here, not at every call. */
export function defineTool<I extends z.ZodType, O>(definition: ToolDefinition<I, O>): ToolDefinition<I, O> {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(definition.name)) throw new Error(`tool name "${definition.name}" is not valid`);
  if (!Number.isInteger(definition.timeoutMs) || definition.timeoutMs <= 0) {
    throw new Error(`tool ${definition.name}: timeoutMs must be a positive whole number`);
  }
  return definition;
}

/** A failure a tool reports on purpose, with how it should be treated. */
export class ToolError extends Error {
  constructor(
    readonly failureMode: FailureMode,
    message: string,
    readonly code?: string,
    /** Overrides whether the failure mode is retried (a call cut off mid-way is retried only if idempotent). */
    readonly retryable?: boolean,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** The tools a Gatehouse instance knows. */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  constructor(tools: readonly ToolDefinition[] = []) {
    for (const t of tools) this.register(t);
  }

  register(tool: ToolDefinition): void {
    if (this.tools.has(tool.name)) throw new Error(`tool ${tool.name} is registered twice`);
    this.tools.set(tool.name, tool as ToolDefinition);
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }
}
