import { contentHash, eventHash, GENESIS_HASH, SIGNED_TYPES, signedDecision, verifyDecisionSignature } from './chain.js';

/** An event as the verifier needs it: from a store, or from an export file. */
export interface ChainEvent {
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>> & { readonly hash?: string; readonly signature?: string; readonly policyVersion?: string };
}

export type FindingKind = 'changed' | 'removed' | 'inserted' | 'reordered' | 'unchained' | 'bad_signature' | 'unsigned';

/** The first broken link: which revision, what kind of break, and why. */
export interface Finding {
  readonly revision: number;
  readonly kind: FindingKind;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly signaturesChecked: number;
  readonly finding?: Finding;
}

/**
 * Walks a stream in revision order and recomputes its hash chain; with a public key it also checks
 * every signed approval decision against the input its request showed. Pure; reports the first
 * finding and names the kind of tampering that explains it.
 */
export function verifyStream(events: readonly ChainEvent[], options: { publicKeyPem?: string } = {}): VerifyReport {
  let signaturesChecked = 0;
  const fail = (finding: Finding): VerifyReport => ({ ok: false, events: events.length, signaturesChecked, finding });
  const stored = events.map((e) => e.metadata.hash);
  const indexOfHash = new Map<string, number>();
  stored.forEach((h, i) => h && indexOfHash.set(h, i));
  const requests = new Map<string, unknown>();

  let previous = GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as ChainEvent;
    if (e.revision !== i) {
      if (e.revision > i) return fail({ revision: i, kind: 'removed', reason: `revision ${i} is missing: the stream goes from ${i - 1} to ${e.revision}` });
      return fail({ revision: e.revision, kind: 'inserted', reason: `revision ${e.revision} appears again at place ${i}` });
    }
    const own = e.metadata.hash;
    if (!own) return fail({ revision: i, kind: 'unchained', reason: `${e.type} at revision ${i} carries no hash` });
    if (eventHash(previous, e.type, e.data, e.metadata) !== own) return fail(diagnose(events, i, previous, indexOfHash));
    previous = own;

    const data = e.data as Record<string, unknown>;
    if (e.type === 'ApprovalRequested') requests.set(String(data.approvalId), data.input);
    if (options.publicKeyPem && SIGNED_TYPES.has(e.type)) {
      const { signature, policyVersion } = e.metadata;
      if (!signature) return fail({ revision: i, kind: 'unsigned', reason: `${e.type} at revision ${i} carries no signature` });
      const decision = signedDecision(e.type, data, contentHash(data.editedInput ?? requests.get(String(data.approvalId)) ?? null), policyVersion ?? '');
      signaturesChecked++;
      if (!verifyDecisionSignature(decision, signature, options.publicKeyPem)) {
        return fail({ revision: i, kind: 'bad_signature', reason: `${e.type} at revision ${i}: the signature does not match the decision (${decision.decision} by ${decision.approver})` });
      }
    }
  }
  return { ok: true, events: events.length, signaturesChecked };
}

/** Explains a hash that does not follow from its predecessor. */
function diagnose(events: readonly ChainEvent[], i: number, previous: string, indexOfHash: ReadonlyMap<string, number>): Finding {
  const e = events[i] as ChainEvent;
  const own = e.metadata.hash as string;
  const candidates = [GENESIS_HASH, ...indexOfHash.keys()];
  const from = candidates.find((h) => h !== previous && eventHash(h, e.type, e.data, e.metadata) === own);
  if (from !== undefined) {
    // The event itself is intact: what sits before it is not what was there when it was written.
    const j = from === GENESIS_HASH ? -1 : (indexOfHash.get(from) as number);
    if (j > i || (j === -1 && i > 0)) return { revision: i, kind: 'reordered', reason: `revision ${i} was written after ${j === -1 ? 'the start' : `the event now at revision ${j}`}` };
    if (j < i - 1) return { revision: j + 1, kind: 'inserted', reason: `revision ${j + 1} was not there when revision ${i} was written` };
  } else {
    const hashOf = (k: number) => events[k]?.metadata.hash;
    const next = events[i + 1];
    // If the next event follows from this one's stored hash, this event's content was changed;
    // if it follows from the event before, this one was slipped in between.
    if (next?.metadata.hash && eventHash(own, next.type, next.data, next.metadata) === next.metadata.hash) {
      return { revision: i, kind: 'changed', reason: `${e.type} at revision ${i} differs from what was written` };
    }
    if (next?.metadata.hash && eventHash(previous, next.type, next.data, next.metadata) === next.metadata.hash) {
      return { revision: i, kind: 'inserted', reason: `revision ${i} (${e.type}) was not there when revision ${i + 1} was written` };
    }
    if (i > 0 && hashOf(i - 1) !== undefined && !candidates.some((h) => eventHash(h, e.type, e.data, e.metadata) === own)) {
      return { revision: i, kind: 'changed', reason: `${e.type} at revision ${i} differs from what was written` };
    }
  }
  return { revision: i, kind: 'removed', reason: `the event written before revision ${i} is missing` };
}
