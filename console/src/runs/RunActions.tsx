import { useState } from 'react';
import { useMutation } from 'urql';
import { useSession } from '../auth/SessionContext';
import { offeredActions } from './actions';
import { CANCEL_RUN_MUTATION, RESUME_RUN_MUTATION, type RunActionData } from './queries';

/** Cancel / resume with an optional reason; the server's refusal is shown here, with its message. */
export function RunActions(props: { runId: string; status: string }) {
  const { can } = useSession();
  const offered = offeredActions(props.status, can);
  const [reason, setReason] = useState('');
  const [cancel, sendCancel] = useMutation<RunActionData>(CANCEL_RUN_MUTATION);
  const [resume, sendResume] = useMutation<RunActionData>(RESUME_RUN_MUTATION);
  const [done, setDone] = useState<string>();
  if (!offered.cancel && !offered.resume) return null;
  const error = cancel.error ?? resume.error;
  const variables = { runId: props.runId, reason: reason.trim() || null };
  const act = async (send: typeof sendCancel, what: string) => {
    setDone(undefined);
    const r = await send(variables);
    if (!r.error) setDone(what);
  };
  return (
    <div className="run-actions">
      <label>Reason <input type="text" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={5_000} /></label>
      {offered.cancel && <button type="button" className="danger" disabled={cancel.fetching} onClick={() => void act(sendCancel, 'Cancelled.')}>Cancel run</button>}
      {offered.resume && <button type="button" className="primary" disabled={resume.fetching} onClick={() => void act(sendResume, 'Resumed.')}>Resume run</button>}
      <span role="status" aria-live="polite">{done}</span>
      {error && <p className="error" role="alert">{error.graphQLErrors[0]?.message ?? error.message}</p>}
    </div>
  );
}
