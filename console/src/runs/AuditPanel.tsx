import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { useSession } from '../auth/SessionContext';
import { exportFileName } from './format';
import { AUDIT_EXPORT_QUERY, AUDIT_VERIFICATION_QUERY, type AuditExportData, type AuditVerificationData } from './queries';

/**
 * The run's audit chain as the server verifies it with its own key, checked again whenever the
 * trace grows (`version`), and its JSON Lines export as a download. The export comes from the
 * API's `auditExport` (the CLI's own exporter), not assembled here from `runEvents`: those carry
 * the hash but not the rest of the metadata (signatures, seals, key ids), so a file built in the
 * browser would not verify offline with `gatehouse audit verify`.
 */
export function AuditPanel(props: { runId: string; version: number }) {
  const { client, can } = useSession();
  const [result, check] = useQuery<AuditVerificationData>({ query: AUDIT_VERIFICATION_QUERY, variables: { runId: props.runId } });
  useEffect(() => {
    if (props.version > 0) check({ requestPolicy: 'network-only' });
  }, [props.version, check]);
  const [download, setDownload] = useState<{ busy: boolean; error?: string }>({ busy: false });

  const save = async () => {
    setDownload({ busy: true });
    const r = await client.urql.query<AuditExportData>(AUDIT_EXPORT_QUERY, { runId: props.runId }).toPromise();
    if (r.error || !r.data) return setDownload({ busy: false, error: r.error?.graphQLErrors[0]?.message ?? r.error?.message ?? 'no export' });
    const url = URL.createObjectURL(new Blob([r.data.auditExport], { type: 'application/x-ndjson' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = exportFileName(props.runId);
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
    setDownload({ busy: false });
  };

  const v = result.data?.auditVerification;
  return (
    <div className="audit-panel">
      <div role="status" aria-live="polite" data-testid="audit-status">
        {result.fetching && !v && 'Checking the chain…'}
        {v && v.ok && (
          <p className="audit-ok">
            Chain intact: {v.events} events, {v.signaturesVerified ? `${v.signaturesChecked} signatures valid` : 'signatures NOT verified (the server has no key)'}, {v.sealed ? 'sealed' : `not sealed yet (${v.unsignedTail} event${v.unsignedTail === 1 ? '' : 's'} after the last signature)`}.
          </p>
        )}
        {v && !v.ok && <p className="audit-broken error">Chain BROKEN at revision {v.finding?.revision}: {v.finding?.kind}: {v.finding?.reason}</p>}
      </div>
      {result.error && <p className="error" role="alert">{result.error.graphQLErrors[0]?.message ?? result.error.message}</p>}
      <button type="button" onClick={() => check({ requestPolicy: 'network-only' })}>Check again</button>{' '}
      {can('auditExport') && <button type="button" disabled={download.busy} onClick={() => void save()}>Download JSON Lines export</button>}
      {download.error && <p className="error" role="alert">{download.error}</p>}
    </div>
  );
}
