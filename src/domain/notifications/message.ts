import type { Trigger } from './events.js';

/** Everything a channel renders: the same facts for webhook JSON, Slack blocks and email. */
export interface NotificationMessage {
  /** `<approvalId>/<delivery key>`: the same on every attempt, so a receiver can drop a repeat. */
  readonly idempotencyKey: string;
  readonly kind: 'approval_requested' | 'approval_escalated' | 'approval_reminder' | 'approval_granted' | 'approval_denied' | 'approval_expired';
  /** One line, e.g. the email subject's default. */
  readonly title: string;
  readonly approvalId: string;
  readonly runId: string;
  readonly tool: string;
  readonly risk: { readonly level: string; readonly score: number; readonly factors: readonly string[] };
  readonly requester: string;
  readonly goal: string;
  readonly expiresAt: string;
  /** Whole minutes left until the gate times out (0 when past). */
  readonly minutesLeft: number;
  readonly quorum: { readonly received: number; readonly required: number };
  readonly eligibleRoles: readonly string[];
  /** The console card: `<public url>/approvals/<id>`. Opening it decides nothing: the approver signs in and confirms. */
  readonly link: string;
  /** Who it is addressed to (principal ids). */
  readonly to: readonly string[];
}

/** The facts about a gate a message is made of. */
export interface MessageFacts {
  readonly approvalId: string;
  readonly runId: string;
  readonly tool: string;
  readonly risk: { level: string; score: number; factors: readonly string[] };
  readonly requester: string;
  readonly goal: string;
  readonly expiresAt: string;
  readonly received: number;
  readonly required: number;
  readonly eligibleRoles: readonly string[];
}

/** The console address of an approval's card. */
export function approvalLink(publicUrl: string, approvalId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(approvalId)}`;
}

function kindOf(trigger: Trigger): NotificationMessage['kind'] {
  switch (trigger.kind) {
    case 'requested': return 'approval_requested';
    case 'escalated': return 'approval_escalated';
    case 'reminder': return 'approval_reminder';
    case 'outcome': return trigger.outcome === 'granted' ? 'approval_granted' : trigger.outcome === 'denied' ? 'approval_denied' : 'approval_expired';
    default: {
      const never: never = trigger;
      return never;
    }
  }
}

function titleOf(trigger: Trigger, f: MessageFacts, minutesLeft: number): string {
  switch (trigger.kind) {
    case 'requested': return `Approval needed: ${f.tool} (${f.risk.level} risk) for ${f.requester}`;
    case 'escalated': return `Escalated to ${trigger.toRoles.join(', ')}: ${f.tool} (${f.risk.level} risk) for ${f.requester}`;
    case 'reminder': return `Reminder: ${f.tool} (${f.risk.level} risk) for ${f.requester} expires in ${minutesLeft} min`;
    case 'outcome': {
      const what = { granted: 'was approved', denied: 'was denied', expired_approved: 'expired and was approved by policy', expired_denied: 'expired and was denied' }[trigger.outcome];
      return `Your request ${f.tool} ${what}`;
    }
    default: {
      const never: never = trigger;
      return never;
    }
  }
}

/** Composes the message for one delivery at `now`. */
export function composeMessage(trigger: Trigger, facts: MessageFacts, key: string, to: readonly string[], publicUrl: string, now: Date): NotificationMessage {
  const minutesLeft = Math.max(0, Math.floor((Date.parse(facts.expiresAt) - now.getTime()) / 60_000));
  return {
    idempotencyKey: `${facts.approvalId}/${key}`,
    kind: kindOf(trigger),
    title: titleOf(trigger, facts, minutesLeft),
    approvalId: facts.approvalId,
    runId: facts.runId,
    tool: facts.tool,
    risk: { level: facts.risk.level, score: facts.risk.score, factors: [...facts.risk.factors] },
    requester: facts.requester,
    goal: facts.goal,
    expiresAt: facts.expiresAt,
    minutesLeft,
    quorum: { received: facts.received, required: facts.required },
    eligibleRoles: [...facts.eligibleRoles],
    link: approvalLink(publicUrl, facts.approvalId),
    to: [...to],
  };
}

/** Fills `{{name}}` placeholders of a subject template from a message; unknown names stay as written. */
export function renderSubject(template: string, m: NotificationMessage): string {
  const values: Record<string, string> = { kind: m.kind.replace('approval_', ''), tool: m.tool, risk: m.risk.level, requester: m.requester, approvalId: m.approvalId, goal: m.goal, title: m.title };
  // A subject is one header line: no line breaks from a goal.
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, name: string) => values[name] ?? all).replace(/[\r\n]+/g, ' ').slice(0, 300);
}
