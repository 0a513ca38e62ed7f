import { contentHash } from '../audit/chain.js';

/** Votes on one gate so far, by the hash of the input each approved. */
export type VoteTally = Readonly<Record<string, number>>;

/**
 * One more vote, for the input it approves (the request's, or the voter's edit), by SHA-256 of its
 * canonical JSON: a gate passes only when `required` votes approve one and the same input. The
 * one fold of votes: the run's state and the pending-approvals read model both count with it.
 */
export function tallyVote(tally: VoteTally | undefined, requested: unknown, edited: unknown, required: number): { tally: VoteTally; passed: boolean } {
  const key = contentHash(edited ?? requested);
  const count = (tally?.[key] ?? 0) + 1;
  return { tally: { ...tally, [key]: count }, passed: count >= required };
}
