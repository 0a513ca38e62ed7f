import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { checkDecision, DECISION_LABEL, type DecisionMode } from './decision';
import { refusalText } from './errors';
import { APPROVE, CANCEL, DENY, ESCALATE, type ApprovalCardData, type DecisionPayload } from './queries';

const MUTATION = { approve: APPROVE, deny: DENY, escalate: ESCALATE, cancel: CANCEL } as const;
const FIELD = { approve: 'approve', deny: 'deny', escalate: 'escalateApproval', cancel: 'cancelApproval' } as const;

/**
 * One decision on one card: the justification (or reason), an optional edited input when
 * approving, checked before sending; the server's refusal shown in place with its message.
 * Focus moves to the first field when the form opens, so a screen reader announces it.
 */
export function DecisionForm(props: {
  approval: ApprovalCardData;
  mode: DecisionMode;
  toolSchema: unknown;
  onClose: () => void;
  onDone: (message: string, payload: DecisionPayload) => void;
}) {
  const { approval, mode } = props;
  const id = useId();
  const [text, setText] = useState('');
  const [editing, setEditing] = useState(false);
  const [edited, setEdited] = useState(() => JSON.stringify(approval.input ?? {}, null, 2));
  const [problems, setProblems] = useState<string[]>([]);
  const [result, send] = useMutation<Record<string, DecisionPayload>>(MUTATION[mode]);
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => first.current?.focus(), [mode]);

  const needsText = (mode === 'approve' || mode === 'deny') && approval.justificationRequired;
  const label = mode === 'approve' || mode === 'deny' ? `Justification${needsText ? ' (required)' : ' (optional)'}` : 'Reason (optional)';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const check = checkDecision({ mode, approvalId: approval.approvalId, text, ...(editing ? { editedInput: edited } : {}) }, approval, props.toolSchema);
    if (!check.ok) {
      setProblems(check.errors);
      return; // nothing is sent
    }
    setProblems([]);
    const answer = await send({ input: check.input });
    const payload = answer.data?.[FIELD[mode]];
    if (payload) props.onDone(doneText(mode, approval.tool ?? approval.stepId, payload), payload);
  };

  const refusal = refusalText(result.error);
  return (
    <form className="decision" onSubmit={submit} aria-label={`${DECISION_LABEL[mode]} ${approval.tool ?? approval.stepId}`}>
      <label htmlFor={`${id}-text`}>{label}</label>
      <textarea id={`${id}-text`} ref={first} rows={2} value={text} onChange={(e) => setText(e.target.value)} aria-required={needsText} />
      {mode === 'approve' && (
        <>
          <label className="inline">
            <input type="checkbox" checked={editing} onChange={(e) => setEditing(e.target.checked)} /> Approve with an edited input
          </label>
          {editing && (
            <>
              <label htmlFor={`${id}-edit`}>Edited input (JSON)</label>
              <textarea id={`${id}-edit`} className="json" rows={8} spellCheck={false} value={edited} onChange={(e) => setEdited(e.target.value)} />
            </>
          )}
        </>
      )}
      {problems.length > 0 && (
        <div role="alert" className="error problems">
          <p>Not sent:</p>
          <ul>{problems.map((p) => <li key={p}>{p}</li>)}</ul>
        </div>
      )}
      {refusal && <p role="alert" className="error refusal">Refused: {refusal}</p>}
      <div className="actions">
        <button type="submit" className={mode === 'deny' || mode === 'cancel' ? 'danger' : 'primary'} disabled={result.fetching}>
          {result.fetching ? 'Sending…' : DECISION_LABEL[mode]}
        </button>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
    </form>
  );
}

function doneText(mode: DecisionMode, what: string, payload: DecisionPayload): string {
  const a = payload.approval;
  switch (mode) {
    case 'approve':
      return a.status === 'OPEN' ? `Approved ${what}: ${a.receivedApprovals} of ${a.requiredApprovals}, waiting for more.` : `Approved ${what}: the gate is ${a.status}.`;
    case 'deny':
      return `Denied ${what}.`;
    case 'escalate':
      return `Escalated ${what}.`;
    case 'cancel':
      return `Withdrew ${what}.`;
    default: {
      const never: never = mode;
      throw new Error(`unknown decision ${String(never)}`);
    }
  }
}
