import { useCallback, useEffect, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { ApprovalCard } from '../approvals/ApprovalCard';
import type { DecisionMode } from '../approvals/decision';
import { refusalText } from '../approvals/errors';
import { useApprovalChanges } from '../approvals/hooks';
import { announce, countText, focusAfterLeave, nextHidden, othersText } from '../approvals/inbox';
import { OPEN_FOR_ALL, type OpenForAllData, PENDING_APPROVALS, type PendingApprovalsData, seesPayloads } from '../approvals/queries';
import { useToolSchemas } from '../approvals/tool-schemas';
import { useInboxKeys } from '../approvals/use-keys';
import { useSession } from '../auth/SessionContext';
import '../approvals/approvals.css';

/**
 * The approvals inbox: what the caller may decide now, urgent first (the server's order), kept
 * live by `approvalsChanged` (a closed request leaves at once; every change reads the list again,
 * so order and eligibility stay the server's). Keys: j/k select, a/d open approve/deny.
 */
export function ApprovalsPage() {
  const { can, me } = useSession();
  const [result, reread] = useQuery<PendingApprovalsData>({ query: PENDING_APPROVALS, variables: { first: 100, withInput: seesPayloads(can) } });
  // Asked only by those who may not vote on everything they can see (admins, viewers): scope ALL
  // is theirs, and a tech lead would only be refused.
  const listsAll = me.isAdmin || !can('approve');
  const [all, rereadAll] = useQuery<OpenForAllData>({ query: OPEN_FOR_ALL, pause: !listsAll });
  const schemas = useToolSchemas();
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [selectedId, setSelectedId] = useState<string | undefined>();
  const [open, setOpen] = useState<{ id: string; mode: DecisionMode } | undefined>();
  const [message, setMessage] = useState('');
  const cards = useRef(new Map<string, HTMLElement>());

  const items = (result.data?.pendingApprovals.edges ?? []).map((e) => e.node).filter((a) => !hidden.has(a.approvalId));
  const toolOf = useRef(new Map<string, string>());
  for (const a of items) toolOf.current.set(a.approvalId, a.tool ?? a.stepId);

  const refresh = useCallback(() => {
    reread({ requestPolicy: 'network-only' });
    if (listsAll) rereadAll({ requestPolicy: 'network-only' });
  }, [reread, rereadAll, listsAll]);
  useApprovalChanges((change) => {
    if (change) {
      setHidden((h) => nextHidden(h, change));
      setMessage(announce(change, toolOf.current.get(change.approvalId)));
    }
    refresh();
  });

  // Selection by id, so it stays on its card when others arrive or leave.
  const index = items.findIndex((a) => a.approvalId === selectedId);
  useInboxKeys(items.length, index < 0 ? undefined : index, (action) => {
    if (action.kind === 'select') {
      const id = items[action.index]?.approvalId;
      setSelectedId(id);
      if (id) cards.current.get(id)?.focus();
    } else if (index >= 0 && selectedId) setOpen({ id: selectedId, mode: action.mode });
  });

  // A card decided here leaves the list; focus must not fall back to the page's top (a screen
  // reader would lose its place): it goes to the card that took its place, or the count.
  const decided = useRef<{ id: string; index: number } | undefined>(undefined);
  const countRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    const d = decided.current;
    if (!d || items.some((a) => a.approvalId === d.id)) return;
    decided.current = undefined;
    const next = focusAfterLeave(items.map((a) => a.approvalId), d.index);
    setSelectedId(next);
    if (next) cards.current.get(next)?.focus();
    else countRef.current?.focus();
  });

  const error = refusalText(result.error);
  const others = result.data && all.data ? othersText(all.data.pendingApprovals.totalCount ?? 0, result.data.pendingApprovals.totalCount ?? items.length) : undefined;
  return (
    <section className="approvals">
      <h1>Approvals inbox</h1>
      <p className="notice">
        What you may decide now, urgent first. Keys: <kbd>j</kbd>/<kbd>k</kbd> select, <kbd>a</kbd> approve, <kbd>d</kbd> deny.
      </p>
      <p className="sr-only" role="status" aria-live="polite" data-testid="inbox-live">{message}</p>
      {error && <p role="alert" className="error">Could not read the inbox: {error}</p>}
      {!result.data && result.fetching && <p className="loading" role="status">Loading approvals…</p>}
      {result.data && <p className="count" data-testid="inbox-count" tabIndex={-1} ref={countRef}>{countText(items.length)}</p>}
      {others && (
        <p className="notice" data-testid="inbox-others">
          {others} <Link href="/runs?status=RUNNING">See the running runs</Link>.
        </p>
      )}
      <div className="approval-list">
        {items.map((a, i) => (
          <ApprovalCard
            key={a.approvalId}
            ref={(el) => {
              if (el) cards.current.set(a.approvalId, el);
              else cards.current.delete(a.approvalId);
            }}
            approval={a}
            toolSchema={a.tool ? schemas.get(a.tool) : undefined}
            selected={a.approvalId === selectedId}
            onSelect={() => setSelectedId(a.approvalId)}
            open={open?.id === a.approvalId ? open.mode : undefined}
            onOpen={(mode) => setOpen(mode ? { id: a.approvalId, mode } : undefined)}
            onDone={(text) => {
              decided.current = { id: a.approvalId, index: i };
              setOpen(undefined);
              setMessage(text);
              refresh();
            }}
          />
        ))}
      </div>
      {message && <p className="notice last-change" aria-hidden="true">{message}</p>}
    </section>
  );
}
