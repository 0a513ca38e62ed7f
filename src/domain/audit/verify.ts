import type { RunEvent } from '../events/index.js';
import { evolve } from '../run/evolve.js';
import { initialRunState, type RunState } from '../run/state.js';
import { contentHash, eventContentHash, eventHash, GENESIS_HASH, keyIdOf, SIGNED_TYPES, signedDecision, verifyPayloadSignature } from './chain.js';

/** An event as the verifier needs it: from a store, or from an export file. */
export interface ChainEvent {
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>> & { readonly hash?: string; readonly signature?: string; readonly policyVersion?: string };
}

/**
 * `unsealed`: the stream does not end in a seal (cut short, or the run is not finished);
 * `ungranted`: a gated step's tool call started without a grant; `unknown_key`: a signature names a
 * key that is not pinned; `malformed`: an event the run's fold cannot apply.
 */
export type FindingKind = 'changed' | 'removed' | 'inserted' | 'reordered' | 'unchained' | 'bad_signature' | 'unsigned' | 'unknown_key' | 'unsealed' | 'ungranted' | 'malformed';

/** The first broken link: which revision, what kind of break, and why. */
export interface Finding {
  readonly revision: number;
  readonly kind: FindingKind;
  readonly reason: string;
}

/** What a verification found, and what it could not check. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  /** Decision signatures and seals checked against a pinned key. */
  readonly signaturesChecked: number;
  /** False when no key was pinned: the chain was checked, the signatures were not. */
  readonly signaturesVerified: boolean;
  /** The stream ends in a seal (checked against a pinned key when there is one). */
  readonly sealed: boolean;
  readonly finding?: Finding;
}

/** Keys the verifier trusts; nothing in the stream itself is. */
export interface VerifyOptions {
  /** Pinned public keys (PEM): each signature is checked with the one its key id names. */
  readonly publicKeys?: readonly string[];
  /** One pinned public key (PEM), the same as `publicKeys: [key]`. */
  readonly publicKeyPem?: string;
  /** Accept a stream that does not end in a seal (an unfinished run): its completeness is then not proven. */
  readonly allowUnsealed?: boolean;
}

/**
 * Walks a stream in revision order and recomputes its hash chain; checks that every tool call of a
 * gated step was granted first (by the run's own fold); with pinned keys, checks every signed
 * decision (against the input its request showed and its place in the chain) and every seal; and
 * that the stream ends in a seal. Pure; reports the first finding and names what explains it.
 */
export function verifyStream(events: readonly ChainEvent[], options: VerifyOptions = {}): VerifyReport {
  const pinned = new Map<string, string>();
  for (const pem of [...(options.publicKeys ?? []), ...(options.publicKeyPem ? [options.publicKeyPem] : [])]) pinned.set(keyIdOf(pem), pem);
  const signaturesVerified = pinned.size > 0;
  let signaturesChecked = 0;
  const last = events[events.length - 1];
  const sealed = last?.metadata.seal !== undefined;
  const fail = (finding: Finding): VerifyReport => ({ ok: false, events: events.length, signaturesChecked, signaturesVerified, sealed, finding });
  const stored = events.map((e) => e.metadata.hash);
  const indexOfHash = new Map<string, number>();
  stored.forEach((h, i) => h && indexOfHash.set(h, i));
  const requests = new Map<string, unknown>();
  let state: RunState = initialRunState();

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

    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.type === 'ApprovalRequested') requests.set(String(data.approvalId), data.input);
    const unbacked = grantFinding(state, e, i);
    if (unbacked) return fail(unbacked);
    try {
      state = evolve(state, { type: e.type, data: e.data } as RunEvent);
    } catch (error) {
      return fail({ revision: i, kind: 'malformed', reason: `${e.type} at revision ${i} cannot be applied to the run: ${(error as Error).message}` });
    }

    const { signature, seal, keyId, signedAt, policyVersion } = e.metadata as Record<string, string | undefined>;
    if (signaturesVerified && (SIGNED_TYPES.has(e.type) || seal !== undefined)) {
      if (SIGNED_TYPES.has(e.type) && !signature) return fail({ revision: i, kind: 'unsigned', reason: `${e.type} at revision ${i} carries no signature` });
      const key = keyId === undefined ? undefined : pinned.get(keyId);
      if (!key) return fail({ revision: i, kind: 'unknown_key', reason: `${e.type} at revision ${i} is signed by key ${keyId ?? '(none named)'}, which is not pinned` });
      const place = { previousHash: previous, contentHash: eventContentHash(e.type, e.data, e.metadata), keyId: keyId as string, at: signedAt ?? '' };
      if (signature !== undefined) {
        const decision = signedDecision(e.type, data, contentHash(data.editedInput ?? requests.get(String(data.approvalId)) ?? null), policyVersion ?? '', place);
        signaturesChecked++;
        if (!verifyPayloadSignature(decision, signature, key)) {
          return fail({ revision: i, kind: 'bad_signature', reason: `${e.type} at revision ${i}: the signature does not match the decision (${decision.decision} by ${decision.approver}) at this place in the chain` });
        }
      }
      if (seal !== undefined) {
        signaturesChecked++;
        if (!verifyPayloadSignature({ kind: 'seal', ...place, count: i + 1 }, seal, key)) {
          return fail({ revision: i, kind: 'bad_signature', reason: `the seal on ${e.type} at revision ${i} does not match the stream's first ${i + 1} events` });
        }
      }
    }
    previous = own;
  }
  if (!sealed && !options.allowUnsealed) {
    const lastSeal = events.findLastIndex((e) => e.metadata.seal !== undefined);
    return fail({
      revision: events.length,
      kind: 'unsealed',
      reason: lastSeal < 0 ? 'the stream ends without a seal: it was cut short, or the run is not finished' : `${events.length - 1 - lastSeal} event(s) follow the last seal (revision ${lastSeal}) without a seal of their own`,
    });
  }
  return { ok: true, events: events.length, signaturesChecked, signaturesVerified, sealed };
}

/** A ToolCallStarted on a step whose gate is not granted (by the fold so far), or an auto-approval naming no rule. */
function grantFinding(state: RunState, e: ChainEvent, i: number): Finding | undefined {
  const data = (e.data ?? {}) as Record<string, unknown>;
  if (e.type === 'ApprovalAutoApproved' && (typeof data.rule !== 'string' || data.rule.trim() === '')) {
    return { revision: i, kind: 'ungranted', reason: `the auto-approval at revision ${i} names no rule` };
  }
  if (e.type !== 'ToolCallStarted') return undefined;
  const gate = state.steps.find((s) => s.id === data.stepId)?.gate;
  if (!gate || gate.status === 'GRANTED') return undefined;
  return { revision: i, kind: 'ungranted', reason: `step ${String(data.stepId)} started at revision ${i} while its approval ${gate.approvalId} is ${gate.status}` };
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
