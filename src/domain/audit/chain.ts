import { createPublicKey, hash, verify as verifySignature } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** The "previous hash" of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of one event in its stream's chain: SHA-256 over the previous event's hash, the type,
 * and the canonical JSON of the data and of the metadata without its own hash.
 */
export function eventHash(previousHash: string, type: string, data: unknown, metadata: Record<string, unknown>): string {
  const { hash: _own, ...rest } = metadata;
  return hash('sha256', `${previousHash}\n${type}\n${canonicalJson(data)}\n${canonicalJson(rest)}`, 'hex');
}

/** SHA-256 hex of a value's canonical JSON (an approval's tool input, the policy). */
export function contentHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

/** Approval events whose decision the server signs. */
export const SIGNED_TYPES: ReadonlySet<string> = new Set(['ApprovalGranted', 'ApprovalDenied', 'ApprovalAutoApproved', 'ApprovalExpired']);

/** What an approval signature covers. */
export interface SignedDecision {
  readonly approvalId: string;
  readonly decision: 'granted' | 'denied' | 'auto_approved' | 'expired_approved' | 'expired_denied';
  readonly approver: string;
  readonly role: string;
  readonly justification: string | null;
  /** SHA-256 of the canonical JSON of the tool input the request showed. */
  readonly inputHash: string;
  readonly policyVersion: string;
}

/** The decision an approval event records, in the form its signature covers. */
export function signedDecision(type: string, data: Record<string, unknown>, inputHash: string, policyVersion: string): SignedDecision {
  const approver = data.approver as { id?: string; role?: string } | string | undefined;
  const person = typeof approver === 'object' && approver !== null ? approver : undefined;
  const decision =
    type === 'ApprovalGranted' ? 'granted' : type === 'ApprovalDenied' ? 'denied' : type === 'ApprovalAutoApproved' ? 'auto_approved' : data.outcome === 'approved' ? 'expired_approved' : 'expired_denied';
  return {
    approvalId: String(data.approvalId),
    decision,
    approver: person?.id ?? (typeof approver === 'string' ? `approver:${approver}` : 'system:timer'),
    role: person?.role ?? (typeof approver === 'string' ? 'automated' : 'system'),
    justification: typeof data.justification === 'string' ? data.justification : typeof data.reason === 'string' ? data.reason : null,
    inputHash,
    policyVersion,
  };
}

/** Whether `signature` (base64) is the Ed25519 signature of `decision` by the key in `publicKeyPem`. */
export function verifyDecisionSignature(decision: SignedDecision, signature: string, publicKeyPem: string): boolean {
  try {
    return verifySignature(null, Buffer.from(canonicalJson(decision)), createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
