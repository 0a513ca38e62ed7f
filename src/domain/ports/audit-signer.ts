/** Signs approval decisions and run seals with the server's audit key (Ed25519). */
export interface AuditSigner {
  /** The public key, PEM (SPKI): what `gatehouse audit verify` is pinned to. */
  readonly publicKeyPem: string;
  /** The public key's fingerprint (SHA-256 hex of its DER): every signature names it. */
  readonly keyId: string;
  /** Base64 signature of `payload`. */
  sign(payload: string): string;
}
