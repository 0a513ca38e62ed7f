/** The inbox's live bookkeeping. Pure, so the rules are tested without a server. */

/** One approvalsChanged payload, as the inbox uses it. */
export interface Change {
  readonly kind: 'REQUESTED' | 'UPDATED' | 'CLOSED';
  readonly approvalId: string;
}

/**
 * Approvals hidden at once because a change closed them, before the list is read again. A gate
 * closed and then revived (a resumed run asks again under the same id) is shown again.
 */
export function nextHidden(hidden: ReadonlySet<string>, change: Change): ReadonlySet<string> {
  const next = new Set(hidden);
  if (change.kind === 'CLOSED') next.add(change.approvalId);
  else next.delete(change.approvalId);
  return next;
}

/** The sentence the live region reads for a change ("A new approval request: deploy.release."). */
export function announce(change: Change, tool: string | undefined): string {
  switch (change.kind) {
    case 'REQUESTED':
      return tool ? `A new approval request: ${tool}.` : 'A new approval request.';
    case 'UPDATED':
      return `${tool ?? 'An approval'} changed.`;
    case 'CLOSED':
      return `${tool ?? 'An approval'} was decided or withdrawn and left the inbox.`;
    default: {
      const never: never = change.kind;
      throw new Error(`unknown change ${String(never)}`);
    }
  }
}

/** "No approvals wait for you." / "1 approval waits for you." / "3 approvals wait for you." */
export function countText(n: number): string {
  if (n === 0) return 'No approvals wait for you.';
  return n === 1 ? '1 approval waits for you.' : `${n} approvals wait for you.`;
}

/**
 * The open requests the caller sees but may not decide (`all` from scope ALL, `mine` from the
 * inbox): an admin's inbox is empty by design, and without this it reads as "nothing waits".
 */
export function othersText(all: number, mine: number): string | undefined {
  const others = all - mine;
  if (others <= 0) return undefined;
  return others === 1 ? '1 more open request waits for a role that is not yours.' : `${others} more open requests wait for roles that are not yours.`;
}

/**
 * Where focus goes when the card at `index` has left the list (decided here): the card that took
 * its place, else the new last one; undefined on an empty list (the page focuses its count then).
 */
export function focusAfterLeave(ids: readonly string[], index: number): string | undefined {
  if (ids.length === 0) return undefined;
  return ids[Math.min(Math.max(0, index), ids.length - 1)];
}
