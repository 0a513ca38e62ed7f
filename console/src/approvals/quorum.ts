/** Quorum progress of a gate, as the card shows it: "1 of 2", and who voted. Pure. */
export interface Quorum {
  /** "1 of 2". */
  readonly text: string;
  /** "1 of 2 approvals (carol); 1 more needed", for screen readers and the title. */
  readonly label: string;
  readonly met: boolean;
}

/** The quorum of a gate that has `received` of `required` approvals from `approvers`. */
export function quorum(received: number, required: number, approvers: readonly string[] = []): Quorum {
  const needed = Math.max(0, required - received);
  const who = approvers.length > 0 ? ` (${approvers.join(', ')})` : '';
  const noun = required === 1 ? 'approval' : 'approvals';
  return {
    text: `${received} of ${required}`,
    label: `${received} of ${required} ${noun}${who}; ${needed === 0 ? 'quorum met' : `${needed} more needed`}`,
    met: needed === 0,
  };
}
