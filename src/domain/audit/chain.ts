import { createPublicKey, hash, verify as verifySignature } from 'node:crypto';
import { canonicalJson, canonicalJsonWithout } from './canonical-json.js';

/** The "previous hash" of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash of one event in its stream's chain: SHA-256 over the previous event's hash, the type,
 * and the canonical JSON of the data and of the metadata without its own hash.
 */
export function eventHash(previousHash: string, type: string, data: unknown, metadata: Record<string, unknown>): string {
  return canonicalEventHash(previousHash, type, canonicalJson(data), metadata);
}

/** {@link eventHash} for data already written as canonical JSON (the store writes it once for both). */
export function canonicalEventHash(previousHash: string, type: string, canonicalData: string, metadata: Record<string, unknown>): string {
  return hash('sha256', chainInput(previousHash, type, canonicalData, metadata), 'hex');
}

/** What an event's chain hash is taken over: the previous hash, the type, the data, the metadata without its own hash. */
function chainInput(previousHash: string, type: string, canonicalData: string, metadata: Record<string, unknown>): string {
  return `${previousHash}\n${type}\n${canonicalData}\n${canonicalJsonWithout(metadata, 'hash')}`;
}

/** {@link canonicalEventHash} in the two spellings the store needs: hex in memory, base64url in its rows. */
export function canonicalEventHashes(previousHash: string, type: string, canonicalData: string, metadata: Record<string, unknown>): { hex: string; base64url: string } {
  // One digest, asked for as text: a Buffer per event (an ArrayBuffer with its own backing store)
  // cost more to make and collect than turning the 43 characters into hex here.
  const base64url = hash('sha256', chainInput(previousHash, type, canonicalData, metadata), 'base64url');
  return { hex: hexOfBase64url(base64url), base64url };
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const BASE64URL_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64URL_VALUE['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;

/** Hex of the bytes a base64url text (no padding) encodes; spare low bits at the end are dropped, as Buffer drops them. */
function hexOfBase64url(text: string): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    acc = ((acc << 6) | (BASE64URL_VALUE[text.charCodeAt(i)] as number)) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += HEX_BYTE[(acc >> bits) & 255] as string;
    }
  }
  return out;
}

/** SHA-256 hex of a value's canonical JSON (an approval's tool input, the policy). */
export function contentHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

/** Approval events whose decision the server signs. */
export const SIGNED_TYPES: ReadonlySet<string> = new Set(['ApprovalGranted', 'ApprovalDenied', 'ApprovalAutoApproved', 'ApprovalExpired']);

/** Metadata fields that hold signatures: left out of what a signature covers (it cannot cover itself). */
const SIGNATURE_FIELDS = new Set(['hash', 'signature', 'seal']);

/**
 * SHA-256 over an event's type, data and metadata without its hash and signatures: with the
 * previous event's hash it fixes the event's place in the chain, which is what a signature covers.
 * `canonicalData`: the data's canonical JSON when the caller has it already (the store writes it once).
 */
export function eventContentHash(type: string, data: unknown, metadata: Readonly<Record<string, unknown>>, canonicalData = canonicalJson(data)): string {
  return hash('sha256', `${type}\n${canonicalData}\n${canonicalJsonWithout(metadata, SIGNATURE_FIELDS)}`, 'hex');
}

/** A key id: the SHA-256 fingerprint (hex) of the public key's DER (SPKI) encoding. */
export function keyIdOf(publicKeyPem: string): string {
  return hash('sha256', createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }), 'hex');
}

/** Where in a chain a signed event sits: the hash before it and its own content. */
export interface ChainPlace {
  /** The previous event's hash (the genesis value for a stream's first event). */
  readonly previousHash: string;
  /** {@link eventContentHash} of the signed event. */
  readonly contentHash: string;
  /** The key that signs (see {@link keyIdOf}). */
  readonly keyId: string;
  /** When the server signed (metadata `signedAt`). */
  readonly at: string;
}

/** What an approval signature covers: the decision, and its place in the chain. */
export interface SignedDecision extends ChainPlace {
  readonly kind: 'decision';
  readonly approvalId: string;
  readonly decision: 'granted' | 'denied' | 'auto_approved' | 'expired_approved' | 'expired_denied';
  readonly approver: string;
  readonly role: string;
  readonly justification: string | null;
  /** SHA-256 of the canonical JSON of the tool input the request showed. */
  readonly inputHash: string;
  readonly policyVersion: string;
}

/**
 * What a seal covers: the stream up to and including the sealed event (its place in the chain)
 * and how many events that is, so a stream cut short or with an event removed does not match.
 */
export interface Seal extends ChainPlace {
  readonly kind: 'seal';
  /** Events in the stream up to and including the sealed one (its revision + 1). */
  readonly count: number;
}

/** The decision an approval event records, in the form its signature covers. */
export function signedDecision(type: string, data: Record<string, unknown>, inputHash: string, policyVersion: string, place: ChainPlace): SignedDecision {
  const approver = data.approver as { id?: string; role?: string } | string | undefined;
  const person = typeof approver === 'object' && approver !== null ? approver : undefined;
  const decision =
    type === 'ApprovalGranted' ? 'granted' : type === 'ApprovalDenied' ? 'denied' : type === 'ApprovalAutoApproved' ? 'auto_approved' : data.outcome === 'approved' ? 'expired_approved' : 'expired_denied';
  return {
    kind: 'decision',
    previousHash: place.previousHash,
    contentHash: place.contentHash,
    keyId: place.keyId,
    at: place.at,
    approvalId: String(data.approvalId),
    decision,
    approver: person?.id ?? (typeof approver === 'string' ? `approver:${approver}` : 'system:timer'),
    role: person?.role ?? (typeof approver === 'string' ? 'automated' : 'system'),
    justification: typeof data.justification === 'string' ? data.justification : typeof data.reason === 'string' ? data.reason : null,
    inputHash,
    policyVersion,
  };
}

/** Whether `signature` (base64) is the Ed25519 signature of `payload`'s canonical JSON by the key in `publicKeyPem`. */
export function verifyPayloadSignature(payload: SignedDecision | Seal, signature: string, publicKeyPem: string): boolean {
  try {
    return verifySignature(null, Buffer.from(canonicalJson(payload)), createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
