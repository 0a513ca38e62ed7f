import { matchesPattern } from '../routing/route.js';
import type { RiskLevel } from '../events/common.js';
import type { ChannelType, NotificationsConfig, NotificationRule, Recipient } from './config.js';
import type { PlannedDelivery, Trigger } from './events.js';

/** What addressing needs to know about a gate. */
export interface GateFacts {
  readonly approvalId: string;
  readonly tool: string;
  readonly level: RiskLevel;
  readonly eligibleRoles: readonly string[];
  readonly profile: string;
  readonly requesterId: string;
  /** When the gate was requested and when it expires (ISO-8601). */
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/** A short, stable name of a trigger, part of each delivery key. */
export function triggerId(trigger: Trigger): string {
  switch (trigger.kind) {
    case 'requested': return 'requested';
    case 'escalated': return `escalated:${[...trigger.toRoles].sort().join('+')}`;
    case 'reminder': return `reminder:${Math.round(trigger.share * 100)}`;
    case 'outcome': return 'outcome';
    default: {
      const never: never = trigger;
      return never;
    }
  }
}

/** When each reminder falls due: at its share of the time between request and expiry. */
export function reminderTimes(requestedAt: string, expiresAt: string, shares: readonly number[]): Array<{ share: number; at: string }> {
  const start = Date.parse(requestedAt);
  const span = Date.parse(expiresAt) - start;
  return [...new Set(shares)].sort((a, b) => a - b).map((share) => ({ share, at: new Date(start + Math.round(span * share)).toISOString() }));
}

function ruleMatches(rule: NotificationRule, gate: GateFacts, roles: readonly string[]): boolean {
  const w = rule.when;
  return (!w.levels || w.levels.includes(gate.level))
    && (!w.roles || w.roles.some((r) => roles.includes(r)))
    && (!w.tools || w.tools.some((p) => matchesPattern(p, gate.tool)))
    && (!w.profiles || w.profiles.includes(gate.profile));
}

function audienceOf(rule: NotificationRule, roles: readonly string[], gate: GateFacts, people: readonly Recipient[]): Recipient[] {
  const to = rule.to;
  // The requester never decides its own request, so "eligible" never includes them.
  if (to === 'eligible') return people.filter((p) => roles.includes(p.role) && p.id !== gate.requesterId);
  if ('role' in to) return people.filter((p) => p.role === to.role);
  return to.principals.flatMap((id) => people.filter((p) => p.id === id));
}

/** The addresses one channel type reaches for some people: one email each, one message per Slack channel, one webhook call. */
function addresses(type: ChannelType, channel: string, who: readonly Recipient[]): Array<{ to: string; principals: string[] }> {
  const by = new Map<string, string[]>();
  const add = (to: string, id: string) => by.set(to, [...(by.get(to) ?? []), id]);
  for (const p of who) {
    switch (type) {
      case 'email': if (p.email) add(p.email, p.id); break;
      case 'slack': add(p.slackChannel ?? 'default', p.id); break;
      case 'webhook': add(channel, p.id); break;
      default: { const never: never = type; return never; }
    }
  }
  // A webhook is for machines: it hears the gate even when no person is addressed.
  if (type === 'webhook' && by.size === 0) by.set(channel, []);
  return [...by].map(([to, principals]) => ({ to, principals }));
}

/**
 * The deliveries an approval event calls for: for a request, an escalation (addressed to the roles
 * it went to) or a reminder, every matching rule's audience on its channel; for an outcome, the
 * requester on their own channel (email if they have one and an email channel exists, else Slack).
 * Keys are unique per trigger, channel and address, so the same message is never planned twice.
 */
export function planDeliveries(trigger: Trigger, gate: GateFacts, config: NotificationsConfig, people: readonly Recipient[], notBefore: string): PlannedDelivery[] {
  const out = new Map<string, PlannedDelivery>();
  const push = (channel: string, type: ChannelType, rule: string, to: string, principals: string[]) => {
    const key = `${triggerId(trigger)}/${channel}/${to}`;
    const known = out.get(key);
    if (known) out.set(key, { ...known, principals: [...new Set([...known.principals, ...principals])] });
    else out.set(key, { key, channel, channelType: type, to, principals, rule, trigger, notBefore });
  };
  if (trigger.kind === 'outcome') {
    if (!config.notifyRequester) return [];
    const requester = people.find((p) => p.id === gate.requesterId);
    const byType = (t: ChannelType) => Object.entries(config.channels).find(([, c]) => c.type === t)?.[0];
    const email = byType('email');
    const slack = byType('slack');
    if (requester?.email && email) push(email, 'email', 'requester', requester.email, [requester.id]);
    else if (requester?.slackChannel && slack) push(slack, 'slack', 'requester', requester.slackChannel, [requester.id]);
    return [...out.values()];
  }
  const roles = trigger.kind === 'escalated' ? trigger.toRoles : gate.eligibleRoles;
  for (const rule of config.rules) {
    const channel = config.channels[rule.channel];
    if (!channel || !ruleMatches(rule, gate, roles)) continue;
    for (const a of addresses(channel.type, rule.channel, audienceOf(rule, roles, gate, people))) push(rule.channel, channel.type, rule.name, a.to, a.principals);
  }
  return [...out.values()];
}

/** A trigger and the instant its deliveries may go out. */
export interface TimedTrigger {
  readonly trigger: Trigger;
  readonly notBefore: string;
}

/** What one approval event in a run's stream means for notifications. */
export type ApprovalEventFacts =
  | { readonly type: 'ApprovalRequested'; readonly automatedApprovers: readonly string[]; readonly expiresAt: string }
  | { readonly type: 'ApprovalEscalated'; readonly byAutomated: boolean; readonly toRoles: readonly string[] }
  | { readonly type: 'ApprovalGranted'; readonly gateGranted: boolean }
  | { readonly type: 'ApprovalDenied' }
  | { readonly type: 'ApprovalExpired'; readonly outcome: 'approved' | 'denied' }
  | { readonly type: 'ApprovalAutoApproved' }
  | { readonly type: 'ApprovalCancelled' };

/**
 * The triggers an approval event calls for, at `recordedAt`. A gate with automated approvers is
 * announced to humans only when they hand over (so a bot's quick yes bothers nobody); reminders
 * are timed from the request either way. A vote that does not complete a quorum tells nobody.
 */
export function triggersFor(event: ApprovalEventFacts, recordedAt: string, reminderShares: readonly number[]): TimedTrigger[] {
  switch (event.type) {
    case 'ApprovalRequested': {
      const reminders = reminderTimes(recordedAt, event.expiresAt, reminderShares).map((r) => ({ trigger: { kind: 'reminder' as const, share: r.share }, notBefore: r.at }));
      return [...(event.automatedApprovers.length > 0 ? [] : [{ trigger: { kind: 'requested' as const }, notBefore: recordedAt }]), ...reminders];
    }
    case 'ApprovalEscalated':
      return [{ trigger: event.byAutomated ? { kind: 'requested' } : { kind: 'escalated', toRoles: [...event.toRoles] }, notBefore: recordedAt }];
    case 'ApprovalGranted':
      return event.gateGranted ? [{ trigger: { kind: 'outcome', outcome: 'granted' }, notBefore: recordedAt }] : [];
    case 'ApprovalDenied':
      return [{ trigger: { kind: 'outcome', outcome: 'denied' }, notBefore: recordedAt }];
    case 'ApprovalExpired':
      return [{ trigger: { kind: 'outcome', outcome: event.outcome === 'approved' ? 'expired_approved' : 'expired_denied' }, notBefore: recordedAt }];
    case 'ApprovalAutoApproved':
    case 'ApprovalCancelled':
      // Open reminders are skipped when they fall due (the gate is closed then); nobody else is told.
      return [];
    default: {
      const never: never = event;
      return never;
    }
  }
}
