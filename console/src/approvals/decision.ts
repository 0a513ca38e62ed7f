import { checkEdit } from './edit-validation';

/** What an approver can do to a card. */
export type DecisionMode = 'approve' | 'deny' | 'escalate' | 'cancel';

/** The form as filled in. */
export interface DecisionDraft {
  readonly mode: DecisionMode;
  readonly approvalId: string;
  /** Justification (approve/deny) or reason (escalate/cancel). */
  readonly text: string;
  /** The edited input's JSON text, when approving with an edit. */
  readonly editedInput?: string;
}

/** Ready to send (the mutation's `input`), or what is wrong: nothing is sent then. */
export type DecisionCheck = { ok: true; input: Record<string, unknown> } | { ok: false; errors: string[] };

/**
 * Checks a decision before it is sent and builds the mutation input: a justification where the
 * gate requires one (approve and deny), and an edited input that parses and fits the tool's
 * schema. The server checks all of it again; this only spares a round trip and says why at once.
 */
export function checkDecision(draft: DecisionDraft, gate: { justificationRequired: boolean }, toolSchema: unknown): DecisionCheck {
  const text = draft.text.trim();
  const errors: string[] = [];
  const input: Record<string, unknown> = { approvalId: draft.approvalId };
  switch (draft.mode) {
    case 'approve':
    case 'deny':
      if (gate.justificationRequired && !text) errors.push('A justification is required for this approval.');
      if (text) input.justification = text;
      if (draft.mode === 'approve' && draft.editedInput !== undefined) {
        const edit = checkEdit(draft.editedInput, toolSchema);
        if (edit.ok) input.editedInput = edit.value;
        else errors.push(...edit.errors.map((e) => `Edited input: ${e}`));
      }
      break;
    case 'escalate':
    case 'cancel':
      if (text) input.reason = text;
      break;
    default: {
      const never: never = draft.mode;
      throw new Error(`unknown decision ${String(never)}`);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, input };
}

/** The button and heading text of each decision. */
export const DECISION_LABEL: Record<DecisionMode, string> = {
  approve: 'Approve',
  deny: 'Deny',
  escalate: 'Escalate',
  cancel: 'Cancel request',
};

/** Who may see each button: the server decides in the end (a refusal is shown in place). */
export function mayOffer(mode: DecisionMode, me: { id: string; isAdmin: boolean }, can: (op: string) => boolean, requesterId: string): boolean {
  switch (mode) {
    case 'approve':
      return can('approve');
    case 'deny':
      return can('deny');
    case 'escalate':
      return can('escalateApproval');
    case 'cancel':
      return can('cancelApproval') && (me.isAdmin || me.id === requesterId);
    default: {
      const never: never = mode;
      throw new Error(`unknown decision ${String(never)}`);
    }
  }
}
