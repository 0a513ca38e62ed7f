import { assess } from '../domain/approvals/assess.js';
import type { ApprovalPolicyConfig } from '../domain/approvals/policy-config.js';
import { contentHash } from '../domain/audit/chain.js';
import type { RouteStep } from '../domain/run/commands.js';
import { findStep, type RunState } from '../domain/run/state.js';
import type { ToolDefinition } from './tools/tool.js';

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
    const env = tool.action.environment;
    const facts = { category: tool.action.category, operation: tool.action.operation, environment: typeof env === 'function' ? env(input) : env };
    const a = assess(facts, { requesterId: state.requestedBy?.id ?? '', workspace: state.workspace, input }, this.policy);
    const declared = tool.approval;
    if (!a.gated && !declared) return {};
    const reviewLevel = declared && a.reviewLevel === 'AUTO' ? 'QUICK' : a.reviewLevel;
    const approvalId = `${runId}/${stepId}/${state.version}`;
    const approval = {
      approvalId,
      tool: tool.name,
      rule: a.rule,
      automatedApprovers: reviewLevel === 'AUTO' ? [] : [...this.approverNames],
      risk: a.risk,
      confidence: a.confidence,
      reviewLevel,
      requiredApprovals: declared?.requiredApprovals ?? a.requiredApprovals,
      eligibleRoles: [...(declared?.eligibleRoles ?? a.eligibleRoles)],
      justificationRequired: declared?.justificationRequired ?? a.justificationRequired,
      requester: state.requestedBy ?? { id: 'unknown', role: 'unknown' },
      expiresAt: new Date(Date.parse(now) + (declared?.timeoutMs ?? a.timeoutMs)).toISOString(),
      onTimeout: declared?.onTimeout ?? a.onTimeout,
      priority: a.priority,
      input,
    };
    const autoApproval =
      reviewLevel === 'AUTO'
        ? { approvalId, approver: 'rules', rule: a.rule, reason: `${a.risk.level} risk, confidence ${a.confidence.score} ≥ ${this.policy.confidence.autoAt}` }
        : undefined;
    return { approval, autoApproval };
  }

  /** The gate a tool declares for itself, used when no policy is configured. */
  private declaredGate(runId: string, state: RunState, stepId: string, tool: ToolDefinition, now: string): NonNullable<Gate['approval']> {
    const gate = tool.approval as NonNullable<ToolDefinition['approval']>;
    const required = gate.requiredApprovals ?? 1;
    return {
      approvalId: `${runId}/${stepId}/${state.version}`,
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
