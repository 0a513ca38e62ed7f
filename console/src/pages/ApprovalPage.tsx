import { useCallback, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { approvalIdFromSegment } from '../approvals/address';
import { ApprovalCard } from '../approvals/ApprovalCard';
import type { DecisionMode } from '../approvals/decision';
import { refusalText } from '../approvals/errors';
import { useApprovalChanges } from '../approvals/hooks';
import { APPROVAL, type ApprovalData, seesPayloads } from '../approvals/queries';
import { useToolSchemas } from '../approvals/tool-schemas';
import { useInboxKeys } from '../approvals/use-keys';
import { useSession } from '../auth/SessionContext';
import '../approvals/approvals.css';

/**
 * One approval, deep-linkable (a notification's link lands here): the open card with its
 * decisions, or a closed gate's outcome. Read again whenever a change names it.
 */
export function ApprovalPage(props: { id: string }) {
  const approvalId = approvalIdFromSegment(props.id);
  const { can } = useSession();
  const [result, reread] = useQuery<ApprovalData>({ query: APPROVAL, variables: { approvalId, withInput: seesPayloads(can) } });
  const schemas = useToolSchemas();
  const [open, setOpen] = useState<DecisionMode | undefined>();
  const [message, setMessage] = useState('');
  const card = useRef<HTMLElement>(null);
  const refresh = useCallback(() => reread({ requestPolicy: 'network-only' }), [reread]);
  useApprovalChanges((change) => {
    if (!change || change.approvalId === approvalId) refresh();
  });
  useInboxKeys(result.data ? 1 : 0, 0, (action) => {
    if (action.kind === 'select') card.current?.focus();
    else setOpen(action.mode);
  });

  const a = result.data?.approval;
  const error = refusalText(result.error);
  return (
    <section className="approvals">
      <p><Link href="/approvals">← Approvals inbox</Link></p>
      <h1>Approval</h1>
      <p className="sr-only" role="status" aria-live="polite">{message}</p>
      {error && <p role="alert" className="error">Could not read approval {approvalId}: {error}</p>}
      {!a && result.fetching && <p className="loading" role="status">Loading the approval…</p>}
      {a && (
        <ApprovalCard
          ref={card}
          approval={a}
          toolSchema={a.tool ? schemas.get(a.tool) : undefined}
          open={open}
          onOpen={setOpen}
          onDone={(text) => {
            setOpen(undefined);
            setMessage(text);
            refresh();
          }}
        />
      )}
      {message && <p className="notice last-change" data-testid="decision-result">{message}</p>}
    </section>
  );
}
