/** Signs approval decisions with the server's audit key (Ed25519). */
export interface AuditSigner {
  /** The public key, PEM (SPKI): what `gatehouse audit verify` needs. */
  readonly publicKeyPem: string;
  /** Base64 signature of `payload`. */
  sign(payload: string): string;
}
