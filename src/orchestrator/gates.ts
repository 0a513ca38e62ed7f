import { approvalIdOf } from '../domain/approvals/approval-id.js';
import { assess } from '../domain/approvals/assess.js';
import type { ApprovalPolicyConfig } from '../domain/approvals/policy-config.js';
import { contentHash } from '../domain/audit/chain.js';
import type { RouteStep, RunCommand } from '../domain/run/commands.js';
import { findStep, type RunState } from '../domain/run/state.js';
import type { GateRequirements } from '../domain/approvals/edits.js';
import { actionFacts, type ToolDefinition } from './tools/tool.js';

type Gate = Pick<RouteStep, 'approval' | 'autoApproval'>;

/**
 * Decides the gate of each step when it is routed (decisions are signed in audit-signing.ts): the
 * approval policy (risk rules, confidence, the level's requirements; AUTO approved by rule in the
 * same append), with what a tool itself declares taking precedence; without a policy, only
 * declared gates.
 */
export class Gatekeeper {
  /** The policy version signed decisions name: a hash of the policy in force. */
  readonly policyVersion: string;

  constructor(
    private readonly policy: ApprovalPolicyConfig | undefined,
    private readonly approverNames: readonly string[],
  ) {
    this.policyVersion = policy ? contentHash(policy).slice(0, 16) : 'tool-declared';
  }

  gateFor(runId: string, state: RunState, stepId: string, tool: ToolDefinition, now: string): Gate {
    if (!this.policy) return tool.approval ? { approval: this.declaredGate(runId, state, stepId, tool, now) } : {};
    const input = findStep(state, stepId)?.input ?? {};
    const { a, gated, ...gate } = this.judge(state, tool, input);
    if (!gated) return {};
    const approvalId = approvalIdOf(runId, stepId, state.version);
    const approval = {
      approvalId,
      tool: tool.name,
      rule: a.rule,
      automatedApprovers: gate.reviewLevel === 'AUTO' ? [] : [...this.approverNames],
      risk: a.risk,
      confidence: a.confidence,
      reviewLevel: gate.reviewLevel,
      requiredApprovals: gate.requiredApprovals,
      eligibleRoles: [...gate.eligibleRoles],
      justificationRequired: gate.justificationRequired,
      requester: state.requestedBy ?? { id: 'unknown', role: 'unknown' },
      expiresAt: new Date(Date.parse(now) + gate.timeoutMs).toISOString(),
      onTimeout: gate.onTimeout,
      priority: a.priority,
      input,
    };
    const autoApproval =
      gate.reviewLevel === 'AUTO'
        ? { approvalId, approver: 'rules', rule: a.rule, reason: `${a.risk.level} risk, confidence ${a.confidence.score} ≥ ${this.policy.confidence.autoAt}` }
        : undefined;
    return { approval, autoApproval };
  }

  /**
   * What a gate for `input` would demand, assessed exactly as a new request for it would be (the
   * decider compares it with the open gate when an approver edits the input).
   */
  requirementsFor(state: RunState, tool: ToolDefinition, input: Record<string, unknown>): GateRequirements {
    if (!this.policy) {
      const declared = this.declaredGate('', state, '', tool, new Date(0).toISOString());
      return { riskLevel: declared.risk.level, reviewLevel: declared.reviewLevel, requiredApprovals: declared.requiredApprovals, eligibleRoles: declared.eligibleRoles, justificationRequired: declared.justificationRequired };
    }
    const { a, ...gate } = this.judge(state, tool, input);
    return { riskLevel: a.risk.level, reviewLevel: gate.reviewLevel, requiredApprovals: gate.requiredApprovals, eligibleRoles: gate.eligibleRoles, justificationRequired: gate.justificationRequired, rule: a.rule };
  }

  /**
   * A grant with an edited input carries the edit's assessment, made on the state it is decided
   * on: the pure decider then refuses an edit that would need a stricter gate.
   */
  withEditAssessment(command: RunCommand, state: RunState, toolNamed: (name: string) => ToolDefinition | undefined): RunCommand {
    if (command.type !== 'GrantApproval' || command.editedInput === undefined) return command;
    const step = state.steps.find((s) => s.gate?.approvalId === command.approvalId);
    const tool = step && toolNamed(step.tool);
    return tool ? { ...command, editAssessment: this.requirementsFor(state, tool, command.editedInput) } : command;
  }

  /** The policy's assessment of one call, with what the tool itself declares taking precedence. */
  private judge(state: RunState, tool: ToolDefinition, input: Record<string, unknown>) {
    const policy = this.policy as ApprovalPolicyConfig;
    const a = assess(actionFacts(tool, input), { requesterId: state.requestedBy?.id ?? '', workspace: state.workspace, input }, policy, { minLevel: tool.minRisk });
    const declared = tool.approval;
    if (!declared) return { a, gated: a.gated, reviewLevel: a.reviewLevel, requiredApprovals: a.requiredApprovals, eligibleRoles: [...a.eligibleRoles], justificationRequired: a.justificationRequired, timeoutMs: a.timeoutMs, onTimeout: a.onTimeout };
    // What a tool declares can only make the policy's gate stricter, never open a way around it
    // (a tool naming tech leads must not let them approve a critical call the policy keeps for devops).
    const shared = a.eligibleRoles.filter((r) => declared.eligibleRoles.includes(r));
    const onTimeout = declared.onTimeout === 'deny' || a.onTimeout === 'deny' ? ('deny' as const) : ('approve' as const);
    const timeouts = [declared.timeoutMs ?? a.timeoutMs, a.timeoutMs];
    return {
      a,
      gated: true,
      reviewLevel: a.reviewLevel === 'AUTO' ? ('QUICK' as const) : a.reviewLevel,
      requiredApprovals: Math.max(declared.requiredApprovals ?? 1, a.requiredApprovals),
      eligibleRoles: shared.length > 0 ? shared : [...a.eligibleRoles],
      justificationRequired: (declared.justificationRequired ?? false) || a.justificationRequired,
      // Stricter: denied sooner, or (when expiry approves) approved later.
      timeoutMs: onTimeout === 'deny' ? Math.min(...timeouts) : Math.max(...timeouts),
      onTimeout,
    };
  }

  /** The gate a tool declares for itself, used when no policy is configured. */
  private declaredGate(runId: string, state: RunState, stepId: string, tool: ToolDefinition, now: string): NonNullable<Gate['approval']> {
    const gate = tool.approval as NonNullable<ToolDefinition['approval']>;
    const required = gate.requiredApprovals ?? 1;
    return {
      approvalId: approvalIdOf(runId, stepId, state.version),
      tool: tool.name,
      automatedApprovers: [...this.approverNames],
      risk: { level: 'medium', score: 50, factors: [`tool ${tool.name} requires approval`] },
      confidence: { score: 0, adjustments: [] },
      reviewLevel: required > 1 ? 'FULL' : 'QUICK',
      requiredApprovals: required,
      eligibleRoles: [...gate.eligibleRoles],
      justificationRequired: gate.justificationRequired ?? false,
      requester: state.requestedBy ?? { id: 'unknown', role: 'unknown' },
      expiresAt: new Date(Date.parse(now) + (gate.timeoutMs ?? 60 * 60_000)).toISOString(),
      onTimeout: gate.onTimeout ?? 'deny',
      priority: 'normal',
      input: findStep(state, stepId)?.input ?? {},
    };
  }
}
